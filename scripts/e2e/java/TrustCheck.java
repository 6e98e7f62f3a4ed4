import java.io.FileInputStream;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Asks the running JVM's default trust manager (the one every TLS connection of the image's
 * program uses: its cacerts, or javax.net.ssl.trustStore when set) whether it trusts a server
 * certificate. Prints TRUSTED and exits 0, or NOT TRUSTED and exits 1.
 *
 * Usage: java -cp DIR TrustCheck SERVER-CERT.pem
 */
public final class TrustCheck {
    public static void main(String[] args) throws Exception {
        X509Certificate server;
        try (FileInputStream in = new FileInputStream(args[0])) {
            server = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) null);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager) {
                try {
                    ((X509TrustManager) manager).checkServerTrusted(new X509Certificate[] {server}, "RSA");
                    System.out.println("TRUSTED: " + server.getSubjectX500Principal() + " issued by " + server.getIssuerX500Principal());
                    return;
                } catch (CertificateException e) {
                    System.out.println("NOT TRUSTED: " + e.getMessage());
                    System.exit(1);
                }
            }
        }
        System.out.println("NOT TRUSTED: no X.509 trust manager");
        System.exit(1);
    }
}
