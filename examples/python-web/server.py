# server.py: answers "Greetings from alcove!" on GET / (Python's own http.server), on the port
# given as the first argument (8080 by default), on every address.
import http.server
import sys


class Greeter(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path != "/":
            self.send_error(404)
            return
        body = b"Greetings from alcove!\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Greeter)
print("listening on", port, flush=True)
server.serve_forever()
