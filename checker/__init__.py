"""torcheck: rules-as-code for the U4SSC Terms of Reference."""

__version__ = "0.1.0"
