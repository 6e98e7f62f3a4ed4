# Stand-in for a base that keeps its apt sources in the deb822 format
# (/etc/apt/sources.list.d/debian.sources), as the upstream Debian bookworm images do; made from
# the Python stand-in, whose debootstrap tree has the one-line /etc/apt/sources.list.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}
RUN rm -f /etc/apt/sources.list \
    && printf '%s\n' \
        'Types: deb' \
        'URIs: http://deb.debian.org/debian' \
        'Suites: bookworm' \
        'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
        >/etc/apt/sources.list.d/debian.sources
