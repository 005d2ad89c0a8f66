"""The shell: configuration, bootstrap, command line, platform adapters, outbox dispatcher, jobs."""
