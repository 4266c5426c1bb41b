#!/usr/bin/env python3
"""oci_seeds.py DIR_ARCHIVE DIR_LAYER: seed inputs for fuzz_oci_archive (whole OCI and docker
archives) and fuzz_oci_layer (its format: a mode byte, the config's length, the config, layers
separated by "\\n@@layer@@\\n"; see fuzz_oci_layer.c). Layers hold what the readers must handle:
directories, files, symbolic and hard links, whiteouts, an opaque directory, '..' paths, a file
under a linked directory."""
import gzip, hashlib, io, json, os, struct, sys, tarfile


def tar(entries, fmt=tarfile.USTAR_FORMAT):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as t:
        for name, kind, val in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "file":
                ti.size, ti.mode = len(val), 0o644
                t.addfile(ti, io.BytesIO(val))
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, val
                t.addfile(ti)
            elif kind == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, val
                t.addfile(ti)
    return out.getvalue()


LAYER1 = tar([("bin", "dir", None), ("bin/sh", "file", b"\x7fELF" + b"\0" * 60),
              ("etc", "dir", None), ("etc/one", "file", b"one\n"), ("etc/two", "file", b"two\n"),
              ("lib", "sym", "usr/lib"), ("usr/lib/x", "file", b"x"),
              ("etc/hard", "hard", "etc/one"), ("opq/a", "file", b"a")])
LAYER2 = tar([("etc/.wh.one", "file", b""), ("opq/.wh..wh..opq", "file", b""),
              ("opq/b", "file", b"b"), ("lib/y", "file", b"y"), ("./etc/./three", "file", b"3")],
             tarfile.GNU_FORMAT)
# refused: a path out of the root, a file under a file
LAYER_BAD = tar([("../escape", "file", b"e"), ("etc/two/sub", "file", b"s")])
CONFIG = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Cmd": ["/bin/sh", "-c", "cat /etc/two"], "Entrypoint": None,
                                "Env": ["PATH=/bin", "A=1"], "Volumes": {"/data": {}}},
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def oci(layers):
    cfg = json.loads(CONFIG)
    cfg["rootfs"]["diff_ids"] = ["sha256:" + sha(l) for l in layers]
    cfgb = json.dumps(cfg).encode()
    blobs = [cfgb] + [gzip.compress(layers[0], mtime=0)] + layers[1:]
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": "sha256:" + sha(cfgb), "size": len(cfgb)},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": "sha256:" + sha(blobs[1]), "size": len(blobs[1])}] +
                     [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                       "digest": "sha256:" + sha(b), "size": len(b)} for b in blobs[2:]]}
    manb = json.dumps(man).encode()
    idx = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(manb),
         "size": len(manb), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}
    ents = [("oci-layout", "file", b'{"imageLayoutVersion": "1.0.0"}'),
            ("index.json", "file", json.dumps(idx).encode())]
    ents += [("blobs/sha256/" + sha(b), "file", b) for b in blobs + [manb]]
    return tar(ents)


def docker(layers):
    cfg = json.loads(CONFIG)
    cfg["rootfs"]["diff_ids"] = ["sha256:" + sha(l) for l in layers]
    cfgb = json.dumps(cfg).encode()
    man = [{"Config": sha(cfgb) + ".json", "RepoTags": ["test/img:v1"],
            "Layers": ["%d/layer.tar" % i for i in range(len(layers))]}]
    ents = [(sha(cfgb) + ".json", "file", cfgb), ("manifest.json", "file", json.dumps(man).encode())]
    ents += [("%d/layer.tar" % i, "file", l) for i, l in enumerate(layers)]
    return tar(ents)


def layer_input(mode, config, layers):
    return bytes([mode]) + struct.pack("<H", len(config)) + config + b"\n@@layer@@\n".join(layers)


archive_dir, layer_dir = sys.argv[1], sys.argv[2]
os.makedirs(archive_dir, exist_ok=True)
os.makedirs(layer_dir, exist_ok=True)
open(os.path.join(archive_dir, "seed-oci.tar"), "wb").write(oci([LAYER1, LAYER2]))
open(os.path.join(archive_dir, "seed-docker.tar"), "wb").write(docker([LAYER1, LAYER2]))
open(os.path.join(archive_dir, "seed-oci.tar.gz"), "wb").write(gzip.compress(oci([LAYER1]), mtime=0))
open(os.path.join(layer_dir, "seed-both"), "wb").write(layer_input(3, CONFIG, [LAYER1, LAYER2]))
open(os.path.join(layer_dir, "seed-oci-gz"), "wb").write(
    layer_input(0, CONFIG, [gzip.compress(LAYER1, mtime=0), LAYER2]))
open(os.path.join(layer_dir, "seed-docker"), "wb").write(layer_input(1, b"{}", [LAYER2, LAYER1]))
open(os.path.join(layer_dir, "seed-bad"), "wb").write(layer_input(3, CONFIG, [LAYER1, LAYER_BAD]))
