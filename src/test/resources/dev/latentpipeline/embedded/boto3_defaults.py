"""Uploads and downloads with boto3's default settings against an S3 endpoint; prints one JSON object.

Run by EmbeddedS3Boto3Test: python3 boto3_defaults.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET WORKDIR
WORKDIR holds init.png and large.bin (written by the test); what was sent and answered is reported, the test
checks the stored bytes itself.
"""
import json
import os
import sys
import zlib
import base64

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, access_key, secret_key, bucket, workdir = sys.argv[1:6]

# Nothing but what a user must say to reach a local server: default checksums, transfer and addressing settings.
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                  aws_secret_access_key=secret_key, region_name="us-east-1")

sent = []


def record(request, **kwargs):
    headers = {k.lower(): v for k, v in request.headers.items()}
    sent.append({"op": kwargs["event_name"].split(".")[-1], "headers": {
        k: (v.decode() if isinstance(v, bytes) else v) for k, v in headers.items()
        if k.startswith("x-amz-checksum") or k in ("x-amz-trailer", "x-amz-sdk-checksum-algorithm",
                                                   "content-encoding", "x-amz-content-sha256")}})


s3.meta.events.register("before-send.s3.*", record)


def error_code(call):
    try:
        call()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


report = {"boto3": boto3.__version__}

with open(os.path.join(workdir, "init.png"), "rb") as f:
    png = f.read()
s3.put_object(Bucket=bucket, Key="inputs/init.png", Body=png, ContentType="image/png")
report["put_object"] = sent[-1]

s3.put_object(Bucket=bucket, Key="inputs/init-sha256.png", Body=png, ChecksumAlgorithm="SHA256")
report["put_object_sha256"] = sent[-1]

got = s3.get_object(Bucket=bucket, Key="inputs/init.png", ChecksumMode="ENABLED")
report["get_object_matches"] = got["Body"].read() == png
report["get_object_crc32"] = got.get("ChecksumCRC32")

before = len(sent)
s3.upload_file(os.path.join(workdir, "large.bin"), bucket, "inputs/large.bin")
report["upload_file_ops"] = [r["op"] for r in sent[before:]]
report["upload_part"] = next(r for r in sent[before:] if r["op"] == "UploadPart")
s3.download_file(bucket, "inputs/large.bin", os.path.join(workdir, "large.back"))

# boto3 retries BadDigest (4 attempts with back-off, about 7 s); one attempt says the same.
once = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                    region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
wrong = base64.b64encode(zlib.crc32(b"other bytes").to_bytes(4, "big")).decode()
report["wrong_crc32"] = error_code(
    lambda: once.put_object(Bucket=bucket, Key="inputs/wrong.png", Body=png, ChecksumCRC32=wrong))
report["wrong_crc32_head"] = error_code(lambda: s3.head_object(Bucket=bucket, Key="inputs/wrong.png"))

print(json.dumps(report))
