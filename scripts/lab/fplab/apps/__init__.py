"""The lab's categories, one module each (browsing, chat, file_transfer, video, voip): the
applications a category runs, their servers and clients, and what their captures must show."""

from . import browsing, chat, file_transfer, video, voip

CATEGORIES = {m.CATEGORY.name: m.CATEGORY for m in (browsing, chat, video, voip, file_transfer)}
ORDER = ["browsing", "chat", "video", "voip", "file_transfer"]


def applications():
    return [a for c in ORDER for a in CATEGORIES[c].applications]
