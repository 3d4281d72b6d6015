#!/usr/bin/env python3
"""bench/conflation's lagging subscriber: a wallboard that takes --cost-ms to show each event.

A bare WebSocket client on the standard library, so that its socket's receive buffer can be
kept small (--rcvbuf; the loopback's autotuned buffer would otherwise hide megabytes of lag
from the server). It subscribes to every topic, with or without "conflate", processes each
event for --cost-ms, and records each event's staleness when shown: the local clock minus the
event's `time` (server and client share the machine's clock). After --seconds, or when the
server closes the connection, it prints one JSON line with what it saw.
"""
import argparse
import base64
import json
import os
import socket
import struct
import time
from datetime import datetime


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--token', required=True)
    p.add_argument('--conflate', action='store_true')
    p.add_argument('--cost-ms', type=float, default=1.0)
    p.add_argument('--seconds', type=float, default=12.0)
    p.add_argument('--rcvbuf', type=int, default=16384)
    return p.parse_args()


def send_text(sock, text):
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    n = len(payload)
    if n < 126:
        header += bytes([0x80 | n])
    elif n < 65536:
        header += bytes([0x80 | 126]) + struct.pack('!H', n)
    else:
        header += bytes([0x80 | 127]) + struct.pack('!Q', n)
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


class Frames:
    """Unmasked server frames out of the byte stream: (opcode, payload)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(4096)  # a little at a time, as a slow link delivers it
            if not chunk:
                raise EOFError
            self.buf += chunk

    def next(self):
        self._need(2)
        opcode = self.buf[0] & 0x0F
        n = self.buf[1] & 0x7F
        at = 2
        if n == 126:
            self._need(4)
            n = struct.unpack('!H', self.buf[2:4])[0]
            at = 4
        elif n == 127:
            self._need(10)
            n = struct.unpack('!Q', self.buf[2:10])[0]
            at = 10
        self._need(at + n)
        payload = bytes(self.buf[at:at + n])
        del self.buf[:at + n]
        return opcode, payload


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def main():
    a = parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)  # before connect: no autotuning
    sock.connect(('127.0.0.1', a.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f'GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\nUpgrade: websocket\r\n'
                  f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n'
                  f'Sec-WebSocket-Protocol: globemeet-events.v1\r\nAuthorization: Bearer {a.token}\r\n\r\n').encode())
    response = b''
    while b'\r\n\r\n' not in response:
        response += sock.recv(1)
    if b' 101 ' not in response.split(b'\r\n')[0]:
        raise SystemExit(f'handshake refused: {response!r}')
    frames = Frames(sock)
    subscribe = {'op': 'subscribe', 'req': 's', 'topics': ['>']}
    if a.conflate:
        subscribe['conflate'] = True
    send_text(sock, json.dumps(subscribe))

    staleness = []
    events = 0
    close_code = None
    overflow = None
    started = None
    deadline = None
    sock.settimeout(1.0)
    while deadline is None or time.time() < deadline:
        try:
            opcode, payload = frames.next()
        except socket.timeout:
            continue
        except (EOFError, ConnectionError):
            break
        if opcode == 0x8:
            close_code = struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else None
            break
        if opcode == 0x9:  # ping: answer, or the heartbeat closes the connection
            sock.sendall(bytes([0x8A, 0x80]) + os.urandom(4))
            continue
        if opcode != 0x1:
            continue
        frame = json.loads(payload)
        if frame.get('op') == 'subscribed':
            started = time.time()
            deadline = started + a.seconds
            print(json.dumps({'subscribed': True}), flush=True)
            continue
        if frame.get('op') == 'overflow':
            overflow = frame
            continue
        if frame.get('op') != 'event':
            continue
        time.sleep(a.cost_ms / 1000)  # showing it
        shown = time.time() * 1000
        t = datetime.strptime(frame['time'], '%Y-%m-%dT%H:%M:%S.%fZ')
        event_ms = (t - datetime(1970, 1, 1)).total_seconds() * 1000
        events += 1
        staleness.append(shown - event_ms)
    connected_s = time.time() - started if started else 0
    staleness.sort()
    print(json.dumps({
        'conflate': a.conflate, 'events': events, 'connected_s': round(connected_s, 2),
        'close_code': close_code, 'overflow': overflow,
        'staleness_p50_ms': percentile(staleness, 50), 'staleness_p99_ms': percentile(staleness, 99),
        'staleness_max_ms': staleness[-1] if staleness else None,
    }), flush=True)


if __name__ == '__main__':
    main()
