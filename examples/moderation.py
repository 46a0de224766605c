# A publish proxy that moderates the demo chat, on Python's standard library:
# python3 examples/moderation.py 5000, then npm start -- --demo-moderation-endpoint http://127.0.0.1:5000/
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BANNED = {'spam', 'scam'}

class Moderation(BaseHTTPRequestHandler):
    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        data = request.get('data')  # what the client publishes: {"text": "..."} from the chat page
        text = data.get('text', '') if isinstance(data, dict) else str(data)
        if BANNED & set(text.lower().split()):
            answer = {'error': {'code': 1000, 'message': 'message refused by moderation'}}
        else:
            clean = text.replace('darn', 'd**n')
            answer = {'result': {'data': {**data, 'text': clean} if isinstance(data, dict) else clean}}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 5000), Moderation)
print('listening on', server.server_address[1], flush=True)
server.serve_forever()
