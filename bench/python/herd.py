"""Child process of the cold herd metric: N first callers of one fresh client, at once; prints JSON.

    python herd.py NAME N TOKEN_URL CLIENT_ID CLIENT_SECRET

The process exits at once when done, so callers still waiting after the timeout end with it."""

import json
import logging
import os
import sys

from metrics import herd_in_process
from peers import BY_NAME, Endpoint


def main() -> None:
    name, n, token_url, client_id, client_secret = sys.argv[1:6]
    # requests/urllib3 warn about full connection pools under 1000 threads; that is the library's business.
    logging.basicConfig(level=logging.ERROR)
    result = herd_in_process(BY_NAME[name], Endpoint(token_url, client_id, client_secret), int(n))
    print(json.dumps(result), flush=True)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
