"""Upload handling: turning untrusted bytes and URLs into clean images."""
