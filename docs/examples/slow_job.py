"""A CPU-bound batch job, for the README's profiling recipe.

It parses records and scores them, over and over.  Most of its time goes
to score(), less to parse(), a little to the JSON encoding in report().

usage: python3 slow_job.py [SECONDS]     (default: run until killed)
"""
import json
import os
import sys
import time


def parse(line):
    fields = line.split(",")
    return {"id": int(fields[0]), "values": [float(v) for v in fields[1:]]}


def score(record):
    total = 0.0
    for i in range(200):
        for v in record["values"]:
            total += (v * i) % 7.0
    return total


def report(results):
    return json.dumps(results)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else None
    print("slow_job.py: pid %d" % os.getpid(), flush=True)
    lines = ["%d,%s" % (n, ",".join(str(n * k % 97) for k in range(20)))
             for n in range(200)]
    start = time.monotonic()
    while seconds is None or time.monotonic() - start < seconds:
        results = {}
        for line in lines:
            record = parse(line)
            results[record["id"]] = score(record)
        report(results)


if __name__ == "__main__":
    main()
