"""Every test run signs and checks manifests with a key of its own (quizgen/manifest_check.py),
never the instructor's key in ~/.config/quizgen; subprocesses inherit it."""

import os
import tempfile

os.environ["QUIZGEN_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="quizgen-key-"), "manifest.key")
