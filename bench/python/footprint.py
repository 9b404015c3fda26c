"""Child process of the footprint metric: prints the RSS (KiB) that one client adds once it has its token.

    python footprint.py NAME TOKEN_URL CLIENT_ID CLIENT_SECRET

The implementation's module is imported first, so the number is the client's, not the import's."""

import gc
import importlib
import sys

from peers import BY_NAME, IMPORTS, Endpoint


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    name, token_url, client_id, client_secret = sys.argv[1:5]
    importlib.import_module(IMPORTS[name])
    cls = BY_NAME[name]
    gc.collect()
    before = rss_kib()
    impl = cls(Endpoint(token_url, client_id, client_secret))
    if not impl.get():
        raise RuntimeError("no token")
    gc.collect()
    print(rss_kib() - before)


if __name__ == "__main__":
    main()
