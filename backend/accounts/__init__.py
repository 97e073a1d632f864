"""Users: WeChat login (code2Session), API tokens, and the dev login for local clients."""
