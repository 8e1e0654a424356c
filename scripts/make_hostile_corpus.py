#!/usr/bin/env python3
"""Writes issue 27's hostile-input corpus: request bodies and a manifest (manifest.json) that HostileCorpusTests and
scripts/bench-hostile.sh send to a running API.

    python3 scripts/make_hostile_corpus.py OUT_DIR [--openapi docs/openapi.json]

Standard library only. Every file is generated here (nothing large is committed); the archive bombs are built without
ever holding or writing their unpacked size: a deflate block of 1 MiB of zeros ended by a full flush does not depend on
what came before it, so the stream is that block repeated, and the CRC-32 of n zero bytes comes from zlib's
crc32_combine arithmetic. Kinds:

  truncated-multipart  multipart bodies that end early (no closing boundary, cut in a part's headers, no parts at all)
  npz-overflow         .npz arrays whose headers claim 2^60 labels, negative or huge dimensions, products past 2^63
  zip-bomb-one-entry   small archives holding one honestly declared 3 GiB entry (image zip, npz array, checkpoint)
  zip-bomb-many        archives of 100k tiny entries (image zip, checkpoint)
  lying-image          zips of PNG/JPEG files whose headers claim 4096x4096 or 65535x65535
  field-values         NUL characters and extreme values (int.MaxValue, -1, 1e308, "NaN") in every field and query
                       parameter of every operation of the OpenAPI document

A case with "ci": true is in the subset the test suite runs; the bench runs every case. "expect" is "4xx" (a problem
answer is required), "not-5xx" (a value may be legal there, e.g. a filter that matches nothing) or "bare-4xx" (a NUL in
the URL's path: Kestrel refuses the request line with an empty 400 before any of the API's code runs).
"""
import argparse
import json
import os
import struct
import sys
import zlib
import zipfile

MIB = 1 << 20
GIB = 1 << 30
BOUNDARY = "hostile-corpus-boundary"
EXTREMES = [("nul", "a\u0000b"), ("int-max", 2147483647), ("minus-one", -1), ("1e308", 1e308), ("nan-text", "NaN")]


# --- CRC-32 of zeros and a deflate stream of zeros, without producing the zeros -------------------------------------

def _gf2_times(matrix, vector):
    total = 0
    i = 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _gf2_square(matrix):
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    """zlib's crc32_combine: the CRC of A+B from crc(A), crc(B) and len(B)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def crc32_of(prefix, zeros):
    """CRC-32 of prefix followed by `zeros` zero bytes."""
    crc = zlib.crc32(prefix)
    whole, rest = divmod(zeros, MIB)
    block, block_length = zlib.crc32(bytes(MIB)), MIB  # doubled each step: CRC of 2^k MiB of zeros
    while whole:
        if whole & 1:
            crc = crc32_combine(crc, block, block_length)
        block, block_length = crc32_combine(block, block, block_length), block_length * 2
        whole >>= 1
    return crc32_combine(crc, zlib.crc32(bytes(rest)), rest) if rest else crc


def deflate_zeros(prefix, zeros):
    """A raw deflate stream of prefix followed by `zeros` zero bytes, built from one repeated 1 MiB block."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [head.compress(prefix), head.flush(zlib.Z_FULL_FLUSH)]
    whole, rest = divmod(zeros, MIB)
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    repeated = block.compress(bytes(MIB)) + block.flush(zlib.Z_FULL_FLUSH)
    parts.append(repeated * whole)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts.append(tail.compress(bytes(rest)) + tail.flush(zlib.Z_FINISH))
    return b"".join(parts)


def zip_archive(entries):
    """A zip (zip64 only for its entry count) from (name, method, crc, compressed bytes, uncompressed size) tuples, written by hand so an
    entry's declared size can be gigabytes while its data is a few megabytes."""
    local, central = [], []
    offset = 0
    for name, method, crc, data, size in entries:
        raw = name.encode("utf-8")
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, method, 0, 0x21, crc, len(data), size, len(raw), 0) + raw
        local.append(header + data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0800, method, 0, 0x21, crc, len(data), size,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
        offset += len(header) + len(data)
    directory = b"".join(central)
    count = len(entries)
    end = b""
    if count > 0xFFFF:  # the zip64 end record carries the count; the classic one says "see zip64"
        end = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(directory), offset)
        end += struct.pack("<IIQI", 0x07064B50, 0, offset + len(directory), 1)
        count = 0xFFFF
    end += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), offset, 0)
    return b"".join(local) + directory + end


def stored(name, data):
    return (name, 0, zlib.crc32(data), data, len(data))


def deflated_zeros(name, prefix, zeros):
    return (name, 8, crc32_of(prefix, zeros), deflate_zeros(prefix, zeros), len(prefix) + zeros)


# --- NumPy, PNG, JPEG headers ------------------------------------------------------------------------------------------

def npy(descr, shape, payload=b""):
    shape_text = "(" + "".join(f"{d}, " for d in shape) + ")" if len(shape) != 1 else f"({shape[0]},)"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin-1") + payload


def npz(arrays):
    return zip_archive([stored(name + ".npy", data) for name, data in arrays])


def png(width, height, pixels=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    idat = zlib.compress(pixels if pixels is not None else b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg(width, height):
    """SOI, a baseline SOF0 claiming the size, then EOI: a header with no image behind it."""
    sof = struct.pack(">HBHHB", 17, 8, height, width, 3) + b"".join(struct.pack(">BBB", c, 0x11, 0) for c in (1, 2, 3))
    return b"\xff\xd8" + b"\xff\xc0" + sof + b"\xff\xd9"


def good_png():
    return png(2, 2, b"".join(b"\x00" + b"\x80" * 6 for _ in range(2)))


# --- Requests ---------------------------------------------------------------------------------------------------------

def multipart(parts, close=True):
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        body += b"Content-Type: application/octet-stream\r\n\r\n" if filename else b"\r\n"
        body += (value if isinstance(value, bytes) else value.encode("utf-8")) + b"\r\n"
    return body + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


class Corpus:
    def __init__(self, out):
        self.out = out
        self.cases = []
        os.makedirs(os.path.join(out, "bodies"), exist_ok=True)

    def add(self, kind, name, method, path, body=None, content_type=None, ci=False, heavy=False, expect="4xx", headers=None):
        case = {"kind": kind, "name": name, "method": method, "path": path, "ci": ci, "heavy": heavy, "expect": expect,
                "headers": headers or {}}
        if body is not None:
            file = f"bodies/{len(self.cases):05d}.bin"
            with open(os.path.join(self.out, file), "wb") as f:
                f.write(body)
            case["body"] = file
            case["contentType"] = content_type
        self.cases.append(case)

    def upload(self, kind, name, path, filename, content, ci=False, heavy=True, expect="4xx"):
        body = multipart([("file", content, filename)])
        self.add(kind, name, "POST", path, body, f"multipart/form-data; boundary={BOUNDARY}", ci, heavy, expect)

    def write(self):
        with open(os.path.join(self.out, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump({"boundary": BOUNDARY, "cases": self.cases}, f, indent=1)


def truncated_multipart(c):
    small = npz([("x_train", npy("|u1", (2, 2, 2), bytes(8))), ("x_test", npy("|u1", (2, 2, 2), bytes(8)))])
    full = multipart([("file", small, "set.npz"), ("name", "set", None)])
    ct = f"multipart/form-data; boundary={BOUNDARY}"
    c.add("truncated-multipart", "dataset: no closing boundary", "POST", "/api/datasets", full[:-len(f"--{BOUNDARY}--\r\n")], ct, ci=True)
    c.add("truncated-multipart", "checkpoint: no closing boundary", "POST", "/api/checkpoints",
          multipart([("file", b"PK\x03\x04" + bytes(100), "model.pth")], close=False), ct, ci=True)
    c.add("truncated-multipart", "dataset: cut inside the part headers", "POST", "/api/datasets", full[:60], ct)
    c.add("truncated-multipart", "checkpoint: cut inside the file data", "POST", "/api/checkpoints", full[: len(full) // 2], ct)
    c.add("truncated-multipart", "dataset: boundary only, no part", "POST", "/api/datasets", f"--{BOUNDARY}\r\n".encode(), ct)
    c.add("truncated-multipart", "checkpoint: empty body", "POST", "/api/checkpoints", b"", ct)
    c.add("truncated-multipart", "dataset: boundary missing from the content type", "POST", "/api/datasets", full,
          "multipart/form-data")


def npz_overflow(c):
    images = npy("|u1", (6, 2, 2), bytes(24))
    labels = npy("|u1", (6,), bytes([0, 1, 0, 1, 0, 1]))
    cases = [
        ("label count 2^60", [("x_train", images), ("y_train", npy("|u1", (1 << 60,), bytes(6))), ("x_test", images), ("y_test", labels)], True),
        ("int64 labels, count 2^61", [("x_train", images), ("y_train", npy("<i8", (1 << 61,), bytes(48))), ("x_test", images), ("y_test", labels)], False),
        ("image count 2^60", [("x_train", npy("|u1", (1 << 60, 2, 2), bytes(24))), ("y_train", labels), ("x_test", images), ("y_test", labels)], False),
        ("negative dimension", [("x_train", npy("|u1", (6, -2, 2), bytes(24))), ("y_train", labels), ("x_test", images), ("y_test", labels)], True),
        ("dimensions whose product passes 2^63", [("x_train", npy("|u1", (1 << 32, 1 << 32, 1 << 32), bytes(24))), ("x_test", images)], True),
        ("dimension 2^64", [("x_train", npy("|u1", (1 << 64, 2, 2), bytes(24))), ("x_test", images)], False),
        ("float64 images 2^40 x 1 x 1", [("x_train", npy("<f8", (1 << 40, 1, 1), bytes(64))), ("x_test", images)], False),
        ("header length 65535 of garbage", [("x_train", b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 200), ("x_test", images)], False),
        ("class_names count 2^60", [("x_train", images), ("y_train", labels), ("x_test", images), ("y_test", labels),
                                    ("class_names", npy("<U8", (1 << 60,), bytes(64)))], False),
    ]
    for name, arrays, ci in cases:
        c.upload("npz-overflow", name, "/api/datasets", "overflow.npz", npz(arrays), ci=ci, heavy=False)


def zip_bomb_one_entry(c, zeros):
    size = f"{zeros / GIB:g} GiB"
    c.upload("zip-bomb-one-entry", f"image zip: one {size} png", "/api/datasets", "bomb.zip",
             zip_archive([stored("train/a/0.png", good_png()), deflated_zeros("train/b/0.png", b"", zeros)]), ci=True)
    side = 32
    count = zeros // (side * side * 3)
    x = npy("|u1", (count, side, side, 3))
    x_test = stored("x_test.npy", npy("|u1", (1, side, side, 3), bytes(side * side * 3)))
    # Under the default ModelOpt:DatasetUploads:MaxUncompressedBytes (8 GiB) an honest array of zeros is a legal,
    # unlabeled dataset: what is checked is that reading it costs no memory and little time.
    c.upload("zip-bomb-one-entry", f"npz: x_train of {size}, declared", "/api/datasets", "bomb.npz",
             zip_archive([deflated_zeros("x_train.npy", x, count * side * side * 3), x_test]), ci=True, expect="not-5xx")
    lying = deflated_zeros("x_train.npy", x, count * side * side * 3)
    c.upload("zip-bomb-one-entry", f"npz: x_train declared as 1 KiB, inflating to {size}", "/api/datasets", "bomb.npz",
             zip_archive([lying[:4] + (1024,), x_test]), ci=True)
    c.upload("zip-bomb-one-entry", f"image zip: a png declared as 1 KiB, inflating to {size}", "/api/datasets", "bomb.zip",
             zip_archive([stored("train/a/0.png", good_png()), deflated_zeros("train/b/0.png", b"", zeros)[:4] + (1024,)]))
    c.upload("zip-bomb-one-entry", f"checkpoint: one {size} tensor storage", "/api/checkpoints", "bomb.pth",
             zip_archive([deflated_zeros("archive/data/0", b"", zeros)]), ci=True)


def zip_bomb_many(c, entries):
    pixel = good_png()
    files = [stored(f"train/{'ab'[i % 2]}/{i:06d}.png", pixel) for i in range(entries - 1)] + [stored("test/a/last.png", b"")]
    c.upload("zip-bomb-many", f"image zip: {entries} entries", "/api/datasets", "many.zip", zip_archive(files), ci=True)
    c.upload("zip-bomb-many", f"checkpoint: {entries} entries", "/api/checkpoints", "many.pth",
             zip_archive([stored(f"archive/data/{i}", b"\x00") for i in range(entries)]), ci=True)


def lying_images(c):
    def image_zip(make, count):
        files = []
        for i in range(count):
            split = "train" if i % 4 < 2 else "test"
            files.append(stored(f"{split}/{'ab'[i % 2]}/{i:04d}{make[1]}", make[0]))
        return zip_archive(files)
    c.upload("lying-image", "300 PNGs claiming 4096x4096", "/api/datasets", "lying.zip", image_zip((png(4096, 4096), ".png"), 300), ci=True)
    c.upload("lying-image", "PNGs claiming 65535x65535", "/api/datasets", "lying.zip", image_zip((png(65535, 65535), ".png"), 4), ci=True)
    c.upload("lying-image", "300 JPEGs claiming 4096x4096", "/api/datasets", "lying.zip", image_zip((jpeg(4096, 4096), ".jpg"), 300), ci=True)
    c.upload("lying-image", "JPEGs claiming 65535x65535", "/api/datasets", "lying.zip", image_zip((jpeg(65535, 65535), ".jpg"), 4), ci=True)
    c.upload("lying-image", "PNG claiming 2^31-1 x 1", "/api/datasets", "lying.zip", image_zip((png(0x7FFFFFFF, 1), ".png"), 4))


# --- Field values from the OpenAPI document ----------------------------------------------------------------------------

def resolve(doc, schema):
    while True:
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def fields(doc, schema, prefix=()):
    """Every property path of a JSON body schema, nested objects included."""
    schema = resolve(doc, schema)
    for name, prop in schema.get("properties", {}).items():
        path = prefix + (name,)
        yield path
        if resolve(doc, prop).get("properties"):
            yield from fields(doc, prop, path)


def with_value(base, path, value):
    body = json.loads(json.dumps(base))
    node = body
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return body


def quoted(value):
    from urllib.parse import quote
    return quote(str(value), safe="")


BASE_BODIES = {
    ("post", "/api/jobs"): {"model": "resnet20", "dataset": "synthetic"},
    ("post", "/api/keys"): {"name": "corpus", "scope": "read"},
}
SAMPLE_ID = "0190a4c2-0000-7000-8000-000000000000"


def field_values(c, doc, ci_every):
    count = 0
    for route, operations in doc["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            path_values = {p["name"]: (SAMPLE_ID if p.get("schema", {}).get("format") == "uuid" else "x") for p in params if p["in"] == "path"}

            def url(path_override=None, query=""):
                values = {**path_values, **(path_override or {})}
                text = route
                for k, v in values.items():
                    text = text.replace("{" + k + "}", v)
                return text + (("?" + query) if query else "")

            def add(name, url_text, body=None, content_type=None, headers=None, expect="not-5xx"):
                nonlocal count
                c.add("field-values", f"{method.upper()} {route}: {name}", method.upper(), url_text, body, content_type,
                      ci=count % ci_every == 0, expect=expect, headers=headers)
                count += 1

            json_body = BASE_BODIES.get((method, route))
            content = op.get("requestBody", {}).get("content", {})
            for label, value in EXTREMES:
                text = value if isinstance(value, str) else json.dumps(value)
                for p in params:
                    if p["in"] == "path":
                        add(f"path {p['name']} = {label}", url({p["name"]: quoted(text)}), json.dumps(json_body).encode() if json_body else None,
                            "application/json" if json_body else None, expect="bare-4xx" if "\u0000" in text else "not-5xx")
                    elif p["in"] == "query":
                        add(f"query {p['name']} = {label}", url(query=f"{p['name']}={quoted(text)}"))
                    elif p["in"] == "header" and "\u0000" not in text:  # HTTP cannot carry a NUL in a header
                        add(f"header {p['name']} = {label}", url(), json.dumps(json_body).encode() if json_body else None,
                            "application/json" if json_body else None, headers={p["name"]: text})
                if json_body is not None:
                    schema = content["application/json"]["schema"]
                    for field in fields(doc, schema):
                        body = with_value(json_body, field, value)
                        add(f"field {'.'.join(field)} = {label}", url(), json.dumps(body).encode(), "application/json")
                if "multipart/form-data" in content:
                    form = resolve(doc, content["multipart/form-data"]["schema"])
                    for name in form.get("properties", {}):
                        if name == "file":
                            parts = [("file", b"not a model", text if "\u0000" in text else f"{text}.bin")]
                        else:
                            parts = [("file", b"not a model", "x.bin"), (name, text, None)]
                        add(f"form {name} = {label}", url(), multipart(parts), f"multipart/form-data; boundary={BOUNDARY}")
                if "application/octet-stream" in content:
                    add(f"body with digest header = {label}", url(), text.encode("utf-8"), "application/octet-stream")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--openapi", default=os.path.join(os.path.dirname(__file__), "..", "docs", "openapi.json"))
    parser.add_argument("--bomb-bytes", type=int, default=3 * GIB, help="the honest size of the one-entry bombs' entry")
    parser.add_argument("--many-entries", type=int, default=100_000)
    parser.add_argument("--ci-every", type=int, default=1, help="mark every Nth field-value case for the test suite's subset")
    args = parser.parse_args()
    if args.bomb_bytes >= 4 * GIB:
        sys.exit("--bomb-bytes must stay below 4 GiB (the corpus writes no zip64)")
    with open(args.openapi, encoding="utf-8") as f:
        doc = json.load(f)
    corpus = Corpus(args.out)
    truncated_multipart(corpus)
    npz_overflow(corpus)
    zip_bomb_one_entry(corpus, args.bomb_bytes)
    zip_bomb_many(corpus, args.many_entries)
    lying_images(corpus)
    field_values(corpus, doc, args.ci_every)
    corpus.write()
    kinds = {}
    for case in corpus.cases:
        kinds[case["kind"]] = kinds.get(case["kind"], 0) + 1
    print(f"{len(corpus.cases)} cases in {args.out}: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))


if __name__ == "__main__":
    main()
