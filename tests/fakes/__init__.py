"""Local fakes of the outside services the backend talks to (WeChat), for tests."""
