"""What people type, folded to one plain form: no tone marks, short forms spelt out."""

import re
import unicodedata
from functools import lru_cache

# Typed abbreviations and teencode, after tone marks are stripped.
ABBREVIATIONS = {
    "dvc": "dich vu cong",
    "dvctt": "dich vu cong truc tuyen",
    "dvcqg": "dich vu cong quoc gia",
    "tthc": "thu tuc hanh chinh",
    "cccd": "can cuoc cong dan",
    "cmnd": "chung minh nhan dan",
    "cmt": "chung minh nhan dan",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "gplx": "giay phep lai xe",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dthoai": "dien thoai",
    "ck": "chuyen khoan",
    "tk": "tai khoan",
    "mk": "mat khau",
    "pass": "mat khau",
    "password": "mat khau",
    "ubnd": "uy ban nhan dan",
    "lltp": "ly lich tu phap",
    "ks": "khai sinh",
    "app": "ung dung",
    "web": "trang web",
    "website": "trang web",
    "ntn": "nhu the nao",
    "ko": "khong",
    "k": "khong",
    "kg": "khong",
    "hok": "khong",
    "hk": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "dky": "dang ky",
    "j": "gi",
    "z": "vay",
    "lm": "lam",
    "mik": "minh",
    "mn": "moi nguoi",
    "ng": "nguoi",
    "hs": "ho so",
    "kq": "ket qua",
    "pa": "phan anh",
    "bit": "biet",
    "bik": "biet",
    "mun": "muon",
    "eid": "vneid",
    "vnid": "vneid",
    "vneit": "vneid",
    "vnied": "vneid",
    "cns": "cong nghe so",
    "sms": "tin nhan",
    "onl": "online",
    "ctv": "cong tac vien",
    "stk": "so tai khoan",
    "fb": "facebook",
    "mxh": "mang xa hoi",
    "cty": "cong ty",
    "tr": "trieu",
    "trc": "truoc",
    "ms": "moi",
    "vs": "voi",
    "r": "roi",
    "dki": "dang ky",
    "hso": "ho so",
    "dth": "dien thoai",
    "lsao": "lam sao",
    "kbt": "khong biet",
    "hnay": "hom nay",
    "nhiu": "nhieu",
    "cx": "cung",
    "dzay": "vay",
    "xai": "dung",
    "bn": "bao nhieu",
    "kh": "khong",
    "s": "sao",
    "t7": "thu 7",
    "hcc": "hanh chinh cong",
    "tthcc": "trung tam hanh chinh cong",
    "ub": "uy ban",
    "nv": "nhan vien",
    "blx": "bang lai xe",
    "csgt": "canh sat giao thong",
    "tgian": "thoi gian",
    # English that phone users mix in.
    "install": "cai dat",
    "download": "tai",
    "login": "dang nhap",
    "register": "dang ky",
    "forgot": "quen",
    "account": "tai khoan",
}
PHRASES = {
    "vn eid": "vneid",
    "v neid": "vneid",
    "vn id": "vneid",
    "muc hai": "muc 2",
    "level 2": "muc 2",
}
# Ways of saying a word the guides use, read once short forms are spelt out ("ko nhớ").
SAYINGS = {
    "khong nho": "quen",
    "khong con nho": "quen",
    "hong nho": "quen",  # "hông nhớ" typed without marks; nothing is "hỏng nhớ"
    # What many call VNeID: "the police app".
    "ung dung cong an": "vneid",
    "ung dung cua cong an": "vneid",
    "ung dung bo cong an": "vneid",
}
# Words that say how someone asks, not what about. Bigrams are read before these are dropped,
# so "bản sao" still counts even though "bạn" (ban) is chatter.
STOPWORDS = frozenset(
    """
    a ah ak ad ai anh ba bac ban bay be bi biet cach can cau chi cho chu chua co con cua cu da
    dang duoc de den di do em gi gio giup ha hay hoi hoac huong dan khi khong kieu la lam luc ma
    may minh moi muon nao nay nen nguoi nha nhe nho nhu nhung o oi ong phai ra rang roi sao sang
    si tai thang the thi theo thu toi tren tu tui va vao vay ve voi vui xin xem dau nhieu lau hom
    ne nhi u uh a` oke ok alo hello hi chao cam on giup do biet duoc roi thoi luon lai them
    nua tiep truoc sau xong se van mot hai ba bon nam cac nhung nhieu it rat qua lam thay
    ca tuan ngay trieu nghin
    e b t v ae ak uk um chau gium dum lun tao zay nhen nghen cung khum
    """.split()
)

# "mẹ tôi mất", "điện thoại của mình bị khóa": who owns the thing stands between the thing and
# what happened to it. Left out, the two meet as the pair a guide names ("mẹ mất").
OWNER_WORDS = frozenset({"toi", "tui", "minh", "tao", "cua"})

_NON_WORD = re.compile(r"[^a-z0-9]+")
# "oiii", "vneiddd": a last letter held down says nothing (no Vietnamese word ends in three of a
# letter; "cccd" keeps its own three, which are not at the end).
_HELD_LETTER = re.compile(r"([a-z])\1{2,}\b")
# "ký"/"kí", "lý"/"lí", "tỷ"/"tỉ": both spellings are correct and people type either.
_FINAL_Y = re.compile(r"\b([bcdhklmnprstvx])y\b")


def strip_tones(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_spelling(text: str) -> str:
    """One spelling for syllables typed two ways: final 'y' after a consonant is 'i'."""
    return _FINAL_Y.sub(r"\1i", text)


# A turn asks this of the same text several times (commands, navigation words, the matcher),
# and people type the same few words ("tiếp", "menu") over and over. Building the matcher asks
# it of some 8,000 phrases several times each: the cache holds them all.
@lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    """Lower case, no tone marks, đ -> d, full-width and punctuation folded, short forms spelt."""
    plain = " " + _NON_WORD.sub(" ", _HELD_LETTER.sub(r"\1", strip_tones(text))).strip() + " "
    for phrase, replacement in PHRASES.items():
        plain = plain.replace(f" {phrase} ", f" {replacement} ")
    spelt = " " + " ".join(ABBREVIATIONS.get(word, word) for word in plain.split()) + " "
    for saying, word in SAYINGS.items():
        spelt = spelt.replace(f" {saying} ", f" {word} ")
    return fold_spelling(spelt).strip()
