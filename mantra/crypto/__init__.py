"""Every cryptographic operation (vault) and key files (keys). Imports nothing
of MANTRA's and nothing of Flask, so a worker or a CLI can use it alone."""
