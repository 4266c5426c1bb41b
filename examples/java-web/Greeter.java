// Greeter.java: answers "Greetings from alcove!" on GET / with the JDK's own HTTP server
// (com.sun.net.httpserver), on the port given as the first argument (8080 by default).
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

public class Greeter {
    public static void main(String[] args) throws Exception {
        // TCP_NODELAY on the server's sockets: headers and body go out as two writes, which
        // Nagle's algorithm and delayed ACKs would hold back ~40 ms on a kept-alive connection
        if (System.getProperty("sun.net.httpserver.nodelay") == null)
            System.setProperty("sun.net.httpserver.nodelay", "true");
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        int threads = Integer.getInteger("greeter.threads", 16);
        byte[] body = "Greetings from alcove!\n".getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 1024);
        server.createContext("/", exchange -> {
            if (!"GET".equals(exchange.getRequestMethod())
                    || !"/".equals(exchange.getRequestURI().getPath())) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.setExecutor(Executors.newFixedThreadPool(threads));
        server.start();
        System.out.println("listening on " + port);
    }
}
