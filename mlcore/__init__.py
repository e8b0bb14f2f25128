"""Science library of rgzplatform: plain numpy / astropy code, no web framework.

Arrays, file paths and dataclasses go in and out; the Django apps reach this package through
one bridge module each (for example ``annotations/ml.py``).
"""
