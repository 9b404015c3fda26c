"""Child process of the fleet metric: one fresh client of one implementation, one process of the fleet.

    python fleet.py NAME TOKEN_URL CLIENT_ID CLIENT_SECRET CACHE_URL CACHE_PREFIX

Prints "ready" once its client is built, reads the start time (epoch seconds) from stdin, calls get() from
a few threads until the fleet's time is up, and prints JSON. See metrics.fleet."""

import json
import logging
import os
import sys

from metrics import fleet_member
from peers import BY_NAME, Endpoint


def main() -> None:
    name, token_url, client_id, client_secret, cache_url, cache_prefix = sys.argv[1:7]
    logging.basicConfig(level=logging.ERROR)
    result = fleet_member(
        BY_NAME[name], Endpoint(token_url, client_id, client_secret, cache_url, cache_prefix)
    )
    print(json.dumps(result), flush=True)
    sys.stderr.flush()
    os._exit(0)  # a peer's background thread (m2m-auth's refresh, a connection pool) must not hold the exit


if __name__ == "__main__":
    main()
