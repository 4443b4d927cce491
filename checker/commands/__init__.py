"""Commands of the torcheck CLI that live in modules of their own; each defines `command`."""
