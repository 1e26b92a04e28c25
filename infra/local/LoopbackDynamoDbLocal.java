import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts DynamoDB Local listening on 127.0.0.1 only.
 *
 * <p>DynamoDBLocal.jar has no bind-address flag: its Jetty server listens on every interface. So we
 * build the server exactly as the jar's own main does, then point its connector at loopback before
 * it opens the socket. Run in single-file source mode (no build step):
 *
 * <pre>java -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* LoopbackDynamoDbLocal.java PORT [jar options]</pre>
 *
 * <p>PORT 0 lets the OS pick a free port (the jar itself rejects port 0), which avoids races between
 * parallel instances. Once listening, prints {@code listening on port N} on stdout.
 */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) {
    exitWhenParentCloses(System.in);
    try {
      serve(Integer.parseInt(args[0]), Arrays.copyOfRange(args, 1, args.length));
    } catch (Throwable failure) {
      // A failed start leaves the jar's non-daemon threads running, so an uncaught exception
      // would keep the JVM alive without a server.
      failure.printStackTrace();
      System.exit(1);
    }
  }

  private static void serve(int requestedPort, String[] jarOptions) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(jarOptions);

    // The proxy keeps its Jetty server in a private field with no accessor.
    Field jettyField = DynamoDBProxyServer.class.getDeclaredField("server");
    jettyField.setAccessible(true);
    Server jetty = (Server) jettyField.get(proxy);
    ServerConnector connector = (ServerConnector) jetty.getConnectors()[0];
    connector.setHost("127.0.0.1");
    // Overrides the jar's port (so its startup banner still shows the default 8000).
    connector.setPort(requestedPort);

    // safeStart, unlike start, throws on a bind failure instead of printing it and returning
    // normally; it also skips the startup telemetry call.
    proxy.safeStart();
    System.out.println("listening on port " + connector.getLocalPort());
    proxy.join();
  }

  /** The parent holds our stdin open; EOF means it is gone (even if SIGKILLed), so don't linger. */
  private static void exitWhenParentCloses(InputStream parentPipe) {
    Thread watcher =
        new Thread(
            () -> {
              try {
                while (parentPipe.read() != -1) {}
              } catch (IOException closed) {
                // Treated like EOF.
              }
              Runtime.getRuntime().halt(0); // in-memory: no shutdown work worth waiting for
            });
    watcher.setDaemon(true);
    watcher.start();
  }
}
