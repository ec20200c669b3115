#!/usr/bin/env python3
"""Deterministic school roster CSV for tests and the demo (python3 stdlib only).

    make_roster.py --students N --staff M --classes C --seed S > roster.csv
    make_roster.py --bad > bad.csv

Students are spread in blocks over C classes (一年级1班 .. 六年级4班 for C = 24); about
2/3 of the M adults are teachers (the first ones head a class), the rest staff. Names
are Chinese, with 2-character surnames, rare characters (𠮷 is outside the BMP) and a
few Uyghur names with a middle dot, so byte-exact round trips are really tested. Ids
are S2020001.., T001.., W001..; card numbers are unique, 6-10 digits and at most
4294967295 (32 bits, what readers report); ~10% have none (none with --all-cards).
The same arguments always give the same bytes.

--bad writes a fixed file whose problems are at known lines (see BAD below).
"""
import argparse
import io
import random
import sys

HEADER = ["external_id", "kind", "name", "grade", "class", "card", "active"]
GRADES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤")
DOUBLE_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫"]
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国文红玉兰晓辉林志宇浩然子涵梓轩欣怡雨萱诗"
    "琪佳思远博俊嘉梦瑶天佑一鸣若曦紫雅婷宏鹏飞海燕晨阳春雪秋月冬梅永康德诚信义仁智勤奋乐安宁淑慧"
    "颖聪捷锐哲睿泽瑞祥瀚翔昊凯旋铭鑫淼森焱炎垚晶琳璐琦璇琛瑾瑜璟晗昕暄旭昭晟景泰岳峰岚嵘崇巍川江"
    "河湖波澜清源沐霖露霏雯霄云龙凤鹤松柏竹菊荷莲芸芝蕾薇蓉晴彤丹青蓝金银铁钢成功业兴旺福禄寿喜庆"
    "贵荣昌盛茂发达通顺利和谐美好")
RARE = ["\U00020BB7", "喆", "堃", "淼", "犇", "昇", "珺", "\U00020BB7"]  # 𠮷 twice: make it common
UYGHUR_FIRST = ["买买提", "阿依古丽", "迪丽热巴", "艾尔肯", "古丽娜扎", "热依汗"]
UYGHUR_LAST = ["艾力", "吐尔逊", "热合曼", "阿不都", "伊力哈木", "木拉提"]

# --bad: line 1 is the header, line 2 a good row; the problems are listed below it.
BAD = """\
external_id,kind,name,grade,class,card,active
S2020001,student,张伟,一年级,一年级1班,100001,yes
S2020002,pupil,李娜,一年级,一年级1班,100002,yes
,student,王芳,一年级,一年级1班,100003,yes
S2020001,student,刘洋,一年级,一年级1班,100004,yes
S2020005,student,陈静,一年级,一年级1班,100001,yes
S2020006,student,杨磊,一年级,一年级1班,10O007,yes
S2020007,student,赵敏,一年级,一年级1班,100008
S2020008,student,孙"强",一年级,一年级1班,100009,yes
S2020009,student,周杰,一年级,一年级1班,100010,maybe
S2020010,teacher,,一年级,一年级1班,,yes
S2020011,student,"吴
桐",一年级,一年级1班,100012,yes
S2020012,student,郑爽,一年级,一年级1班,100013,yes
"""
# line 3: unknown kind; 4: empty id; 5: duplicate id (line 2); 6: duplicate card
# (line 2); 7: card with a letter O; 8: 6 fields; 9: quote inside an unquoted field;
# 10: active "maybe"; 11: empty name; 12-13: line break in a quoted name; 14: good.


def class_names(count):
    per_grade = max(1, -(-count // len(GRADES)))
    return [(GRADES[i // per_grade], "%s%d班" % (GRADES[i // per_grade], i % per_grade + 1))
            for i in range(count)]


def person_name(rng):
    r = rng.random()
    if r < 0.01:
        return rng.choice(UYGHUR_FIRST) + "·" + rng.choice(UYGHUR_LAST)
    surname = rng.choice(DOUBLE_SURNAMES) if r < 0.04 else rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    if rng.random() < 0.04:
        given = given[:-1] + rng.choice(RARE)
    return surname + given


def card_number(rng, used):
    while True:
        digits = rng.randint(6, 10)
        card = rng.randint(10 ** (digits - 1), 10 ** digits - 1)
        if card not in used and card <= 0xFFFFFFFF:  # readers report 32-bit numbers
            used.add(card)
            return str(card)


def people(args, rng):
    classes = class_names(args.classes)
    teachers = round(args.staff * 2 / 3)
    for i in range(args.students):
        grade, cls = classes[i * len(classes) // args.students]
        yield "S%d" % (2020001 + i), "student", grade, cls
    for i in range(args.staff):
        if i < teachers:
            grade, cls = classes[i] if i < min(len(classes), teachers // 2) else ("", "")
            yield "T%03d" % (i + 1), "teacher", grade, cls
        else:
            yield "W%03d" % (i - teachers + 1), "staff", "", ""


def roster(args):
    rng = random.Random(args.seed)
    used = set()
    out = io.StringIO()
    out.write(",".join(HEADER) + "\n")
    for ext_id, kind, grade, cls in people(args, rng):
        name = person_name(rng)
        no_card = rng.random() < 0.1 and not args.all_cards
        card = "" if no_card else card_number(rng, used)
        # No field needs quoting: names have no commas, quotes or line breaks.
        out.write(",".join((ext_id, kind, name, grade, cls, card, "yes")) + "\n")
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=100)
    ap.add_argument("--staff", type=int, default=10)
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bad", action="store_true", help="a file with known bad rows")
    ap.add_argument("--all-cards", action="store_true",
                    help="everyone has a card (the demo's gates take cards only)")
    args = ap.parse_args()
    if min(args.students, args.staff) < 0 or args.classes < 1:
        ap.error("counts must not be negative, and there is at least one class")
    text = BAD if args.bad else roster(args)
    sys.stdout.buffer.write(text.encode("utf-8"))


if __name__ == "__main__":
    main()
