"""The app's place in the operating system: data and settings folders (paths), one instance per user setup (single_instance) and crash reports (crash)."""
