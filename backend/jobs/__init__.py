"""Jobs: a generation request, its progress, its results, and the workers that run it."""
