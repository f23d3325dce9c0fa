"""Takes inventory from an LLRP reader with sllurp's own library client (an LLRP implementation
nobody here wrote), for the LLRP simulator's acceptance test.

Usage: sllurp_inventory.py HOST PORT DURATION_S
Prints one JSON object a line: {"event": "inventorying"} once the ROSpec is enabled, then
{"event": "tag", "epc": HEX, "antenna": N, "t": SECONDS} for every tag report (t counted from
"inventorying"), and {"event": "done", "state": NAME} after DURATION_S + 2 s. Exits 1 when the
client never reached inventory.
"""
import json
import logging
import os
import sys
import threading
import time

from sllurp.llrp import LLRPReaderClient, LLRPReaderConfig, LLRPReaderState

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
host, port, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
started = threading.Event()
start = [0.0]


def say(**fields):
    print(json.dumps(fields), flush=True)


def on_inventory(reader, state):
    start[0] = time.monotonic()
    started.set()
    say(event="inventorying")


def on_tags(reader, tags):
    for tag in tags:
        epc = tag.get("EPC-96") or tag.get("EPC") or b""
        if isinstance(epc, (bytes, bytearray)):
            # sllurp hands EPC-96 over already in hex, as ASCII bytes.
            text = epc.decode("ascii", "replace")
            epc = text if all(c in "0123456789abcdefABCDEF" for c in text) else epc.hex()
        say(event="tag", epc=epc, antenna=tag.get("AntennaID"), t=round(time.monotonic() - start[0], 3))


config = LLRPReaderConfig({
    "duration": duration,
    "report_every_n_tags": 1,
    "antennas": [1, 2],
    "tx_power": 0,
    "tag_content_selector": {"EnableAntennaID": True, "EnablePeakRSSI": True, "EnableLastSeenTimestamp": True,
                             "EnableTagSeenCount": True, "EnableROSpecID": True},
    "keepalive_interval": 1000,
})
reader = LLRPReaderClient(host, port, config)
reader.add_state_callback(LLRPReaderState.STATE_INVENTORYING, on_inventory)
reader.add_tag_report_callback(on_tags)
reader.connect()
if not started.wait(10):
    say(event="failed", state=LLRPReaderState.getStateName(reader.llrp.state if reader.llrp else 0))
    reader.disconnect()
    os._exit(1)
time.sleep(duration + 2)
say(event="done", state=LLRPReaderState.getStateName(reader.llrp.state))
reader.disconnect()
reader.join(5)
# sllurp's network thread may outlive the join; the interpreter would wait for it at exit.
os._exit(0)
