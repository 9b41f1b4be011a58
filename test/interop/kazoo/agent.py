"""Drives kazoo recipes for the interoperability tests: one JSON command per line on stdin,
one JSON event per line on stdout.

Commands: {"id", "cmd", "args"}; replies {"event": "ack", "id", ...} or
{"event": "error", "id", "error"}. Partitioners also report {"event": "partition", "name",
"state", "items"} on every state change; a partitioner in the release state releases at once.
Leases take one object: "lease" {path, seconds, identifier} (NonBlockingLease) and "multi"
{path, count, seconds, identifier} (MultiNonBlockingLease) reply {"obtained"}; "get" {path}
replies {"data"} (None when the node is missing).
"""
import datetime
import json
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.recipe.partitioner import PartitionState

lock = threading.Lock()


def emit(event):
    with lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


client = KazooClient(hosts=sys.argv[1], timeout=10.0)
client.start(timeout=30)
parties = {}
partitioners = {}


def watch_partitioner(name, p, changed):
    last = None
    while True:
        changed.wait(1.0)
        changed.clear()
        state = p.state
        items = sorted(list(p)) if state == PartitionState.ACQUIRED else []
        if (state, items) != last:
            last = (state, items)
            emit({"event": "partition", "name": name, "state": state, "items": items})
        if state == PartitionState.RELEASE:
            p.release_set()
            changed.set()
        elif state == PartitionState.FAILURE:
            return


def handle(cmd, args):
    if cmd == "session":
        return {"sessionId": "%x" % client.client_id[0]}
    if cmd == "party.join":
        path, identifier, shallow = args
        party = (client.ShallowParty if shallow else client.Party)(path, identifier)
        party.join()
        parties[(path, identifier)] = party
        return {"node": party.node}
    if cmd == "party.members":
        path, identifier = args
        return {"members": sorted(list(parties[(path, identifier)]))}
    if cmd == "party.leave":
        path, identifier = args
        parties.pop((path, identifier)).leave()
        return {}
    if cmd == "partitioner.start":
        name, path, items, identifier, time_boundary = args
        changed = threading.Event()
        p = client.SetPartitioner(
            path,
            set=items,
            identifier=identifier,
            time_boundary=time_boundary,
            max_reaction_time=0.1,
            state_change_event=changed,
        )
        partitioners[name] = p
        threading.Thread(target=watch_partitioner, args=(name, p, changed), daemon=True).start()
        return {}
    if cmd == "partitioner.finish":
        (name,) = args
        partitioners.pop(name).finish()
        return {}
    if cmd == "lease":
        (request,) = args
        lease = client.NonBlockingLease(
            request["path"],
            datetime.timedelta(seconds=request["seconds"]),
            identifier=request["identifier"],
        )
        return {"obtained": bool(lease)}
    if cmd == "multi":
        (request,) = args
        lease = client.MultiNonBlockingLease(
            request["count"],
            request["path"],
            datetime.timedelta(seconds=request["seconds"]),
            identifier=request["identifier"],
        )
        return {"obtained": bool(lease)}
    if cmd == "get":
        (request,) = args
        try:
            data, _ = client.get(request["path"])
        except NoNodeError:
            return {"data": None}
        return {"data": data.decode("utf-8")}
    raise ValueError("unknown command " + cmd)


def serve(line):
    request = json.loads(line)
    try:
        reply = handle(request["cmd"], request.get("args", []))
        reply.update({"event": "ack", "id": request["id"]})
    except Exception as e:  # reported to the driver, which fails the test
        reply = {"event": "error", "id": request["id"], "error": repr(e)}
    emit(reply)


emit({"event": "ready"})
for line in sys.stdin:
    if line.strip():
        threading.Thread(target=serve, args=(line,), daemon=True).start()
for p in partitioners.values():
    p.finish()
client.stop()
client.close()
