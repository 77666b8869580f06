import multiprocessing
import sys

from app.cli.main import main

# Guarded: child processes (the offline engine and the aligner run isolated, started with "spawn")
# import this module again under another name, and must not run Hark a second time.
if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen (PyInstaller) build starts its children through here
    sys.exit(main())
