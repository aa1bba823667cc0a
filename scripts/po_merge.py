#!/usr/bin/env python3
"""Git merge driver for translation catalogues: the union of both sides' translations.

Branches that each add strings touch the same .po files in the same places (the header's dates,
neighbouring entries), which a line merge reports as conflicts although nothing disagrees.
Registered by `make merge-drivers` as `git config merge.po.driver "python3 scripts/po_merge.py
%O %A %B"`; .gitattributes routes translations/*/LC_MESSAGES/*.po here. Keeps our side's entry
when both sides translated one message differently; `make translations` afterwards re-sorts.
"""

import sys

from babel.messages.pofile import read_po, write_po


def _read(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def _translated(message) -> bool:
    return all(message.string) if isinstance(message.string, tuple) else bool(message.string)


def main(base_path: str, ours_path: str, theirs_path: str) -> int:
    ours, theirs = _read(ours_path), _read(theirs_path)
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id, message.context)
        if mine is None:
            ours[message.id] = message
        elif message.string and not _translated(mine):
            mine.string = message.string
            mine.flags = message.flags
    with open(ours_path, "wb") as handle:
        write_po(handle, ours, width=76, sort_output=True, omit_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
