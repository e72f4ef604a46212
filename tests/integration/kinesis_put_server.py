#!/usr/bin/env python3
"""A scripted PutRecords endpoint on 127.0.0.1 for the Kinesis sink's failure paths (kinesalite
never fails a record). The first call fails whole (HTTP 500 InternalFailure); after it, a record
whose "seq" is a multiple of 5 is throttled (ProvisionedThroughputExceededException) the first
time it arrives, and one whose seq is 7 mod 100 fails for good (KMSAccessDeniedException). It
checks every call's shape (SigV4 Authorization header by curl, X-Amz-Target, at most 500
records) and appends one JSON line per record it accepted or refused to LOG.
    usage: kinesis_put_server.py PORTFILE LOG"""
import base64, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

portfile, log = sys.argv[1], sys.argv[2]
calls = 0
throttled = set()


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        global calls
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        auth = self.headers.get("Authorization", "")
        problems = []
        if not auth.startswith("AWS4-HMAC-SHA256 Credential=rcfd-test/") or "/us-east-1/kinesis/aws4_request" not in auth:
            problems.append("authorization " + auth)
        if "Signature=" not in auth or not self.headers.get("X-Amz-Date"):
            problems.append("unsigned")
        if self.headers.get("X-Amz-Target") != "Kinesis_20131202.PutRecords":
            problems.append("target %s" % self.headers.get("X-Amz-Target"))
        if body.get("StreamName") != "alerts" or not 1 <= len(body["Records"]) <= 500:
            problems.append("call of %d records to %s" % (len(body.get("Records", [])), body.get("StreamName")))
        calls += 1
        with open(log, "a") as f:
            for p in problems:
                f.write(json.dumps({"problem": p}) + "\n")
            if calls == 1:
                f.write(json.dumps({"call": calls, "whole": "InternalFailure"}) + "\n")
                return self.reply(500, {"__type": "InternalFailure", "message": "try again"})
            results = []
            for r in body["Records"]:
                rec = json.loads(base64.b64decode(r["Data"]))
                seq, key = rec["seq"], r["PartitionKey"]
                if seq % 100 == 7:
                    results.append({"ErrorCode": "KMSAccessDeniedException", "ErrorMessage": "no key"})
                    outcome = "refused"
                elif seq % 5 == 0 and seq not in throttled:
                    throttled.add(seq)
                    results.append({"ErrorCode": "ProvisionedThroughputExceededException",
                                    "ErrorMessage": "slow down"})
                    outcome = "throttled"
                else:
                    results.append({"SequenceNumber": str(seq), "ShardId": "shardId-000000000000"})
                    outcome = "accepted"
                f.write(json.dumps({"call": calls, "seq": seq, "key": key, "outcome": outcome}) + "\n")
        failed = sum(1 for r in results if "ErrorCode" in r)
        self.reply(200, {"FailedRecordCount": failed, "Records": results})


srv = HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
