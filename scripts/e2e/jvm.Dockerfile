# Local stand-in for the platform's two JVM service images (OpenMetadata server, OpenSearch):
# Debian's OpenJDK 17 runtime, laid out where each upstream image keeps its JVM (OpenSearch's
# bundled JDK under /usr/share/opensearch/jdk), running as uid 1000 like both upstreams.
FROM imggen-e2e/bookworm-base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /usr/share/opensearch \
    && ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /usr/share/opensearch/jdk \
    && useradd --uid 1000 --user-group --create-home opensearch
USER 1000:1000
CMD ["java", "-version"]
