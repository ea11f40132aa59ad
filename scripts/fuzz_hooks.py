"""What `format: email` means to this API, for `make fuzz` (loaded through schemathesis.toml).

The API refuses addresses at special-use names (`.test`, `.local`, `.invalid`, …) that can never
receive mail; OpenAPI's `email` format cannot say so, so "valid" generated addresses use real domains.
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format("email", st.emails(domains=st.sampled_from(["example.com", "example.org", "mail.no"])))
