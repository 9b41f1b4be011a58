"""A kazoo process that Node tests drive line by line, to check that zkit's PeriodLease and
kazoo's NonBlockingLease / MultiNonBlockingLease share one lease.

Usage: /usr/bin/python3 lease_agent.py <connectString>. One KazooClient (one session). Input: one
JSON object per line, {"id": n, "cmd": ..., ...}. Output: one JSON object per line, the request's
id with its result, or with "error" (the exception's text).

Commands:
  lease  path seconds identifier        -> {"obtained": bool}   (NonBlockingLease)
  multi  path count seconds identifier  -> {"obtained": bool}   (MultiNonBlockingLease)
  get    path                           -> {"data": str | None}
"""
import datetime
import json
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError


def main():
    client = KazooClient(hosts=sys.argv[1], timeout=10.0)
    client.start(timeout=15)
    print(json.dumps({"event": "ready"}), flush=True)
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            request = json.loads(line)
            reply = {"id": request.get("id")}
            try:
                reply.update(handle(client, request))
            except Exception as error:  # reported to the test, which fails on it
                reply["error"] = "%s: %s" % (type(error).__name__, error)
            print(json.dumps(reply), flush=True)
    finally:
        client.stop()
        client.close()


def handle(client, request):
    cmd = request["cmd"]
    if cmd == "lease":
        lease = client.NonBlockingLease(
            request["path"],
            datetime.timedelta(seconds=request["seconds"]),
            identifier=request["identifier"],
        )
        return {"obtained": bool(lease)}
    if cmd == "multi":
        lease = client.MultiNonBlockingLease(
            request["count"],
            request["path"],
            datetime.timedelta(seconds=request["seconds"]),
            identifier=request["identifier"],
        )
        return {"obtained": bool(lease)}
    if cmd == "get":
        try:
            data, _ = client.get(request["path"])
        except NoNodeError:
            return {"data": None}
        return {"data": data.decode("utf-8")}
    raise ValueError("unknown command %r" % cmd)


if __name__ == "__main__":
    main()
