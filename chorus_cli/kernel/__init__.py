"""The kernel: what every layer may import, and which imports no layer.

``errors`` (each error a message key and an exit code), ``clock`` (the one clock every
expiry reads), ``text`` (SEC-1: text typed by people, checked on the way in) and
``words`` (one tokeniser for names and searches). They import only each other.
"""
