"""The words the description parser knows, in Chinese and English, by slot.

Each table maps a slot value (the English word the prompt uses) to its Chinese phrasings
(separated by spaces) and its English ones (separated by commas where a phrase has several
words). Chinese has no spaces, so every phrase is matched as a substring, longest first;
English phrases must stand on word boundaries. ``ZH`` names each value for the question asked
back to the user.
"""
from __future__ import annotations

SUBJECTS = {
    "girl": ("女孩 女孩子 少女 女生 小姐姐 姑娘 小女孩 女学生 美少女 她 魔法少女 魔女", "girl, girls, schoolgirl, lass, she"),
    "boy": ("男孩 男孩子 少年 男生 小哥哥 小男孩 男学生 美少年 他", "boy, boys, schoolboy, lad, he"),
    "woman": ("女人 女士 女子 阿姨 妈妈 大姐姐 姐姐 御姐", "woman lady women mother"),
    "man": ("男人 男士 男子 叔叔 爸爸 大哥哥 哥哥 大叔", "man men gentleman guy father"),
    "old man": ("老爷爷 爷爷 老人 老头 老先生 老爷子", "old man, grandpa, grandfather, elderly man"),
    "old woman": ("老奶奶 奶奶 老太太 老妇人 外婆 姥姥", "old woman, grandma, grandmother"),
    "child": ("小孩 孩子 儿童 小朋友 宝宝 小孩子", "child kid kids children toddler baby"),
    "cat": ("猫 小猫 猫咪 喵", "cat kitten kitty"),
    "dog": ("狗 小狗 狗狗 柴犬 汪", "dog puppy doggy shiba"),
}
COLOURS = {
    "black": ("黑 黑色 乌黑", "black dark"),
    "white": ("白 白色 雪白", "white"),
    "silver": ("银 银色 银白", "silver platinum"),
    "blonde": ("金 金色 金黄 黄 黄色", "blonde blond golden gold yellow"),
    "brown": ("棕 棕色 褐色 咖啡色 栗色 茶色", "brown chestnut"),
    "red": ("红 红色 赤 大红", "red crimson scarlet"),
    "pink": ("粉 粉色 粉红 粉红色 桃色", "pink rose"),
    "light blue": ("浅蓝 浅蓝色 天蓝 天蓝色 淡蓝", "light blue, sky blue"),
    "blue": ("蓝 蓝色 深蓝 湛蓝 碧 碧蓝", "blue navy azure"),
    "green": ("绿 绿色 翠绿 碧绿", "green emerald"),
    "purple": ("紫 紫色 紫罗兰", "purple violet lavender"),
    "orange": ("橙 橙色 橘色 橘黄", "orange"),
    "grey": ("灰 灰色", "grey gray"),
}
# Words for hair; a hair style word implies hair, so "长发" is both.
HAIR = ("发 头发 发色 秀发", "hair haired")
HAIR_STYLES = {
    "long": ("长发 长头发 长长的头发 披肩发 长直发 长直", "long hair, long haired"),
    "short": ("短发 短头发 短短的头发", "short hair, short haired"),
    "bob": ("波波头 齐肩发 短发波波 蘑菇头 bob头", "bob, bob cut"),
    "ponytail": ("马尾 马尾辫 单马尾", "ponytail"),
    "twintails": ("双马尾 双马尾辫 两个辫子", "twintails, twin tails, pigtails"),
    "spiky": ("刺猬头 炸毛 刺头 爆炸头", "spiky hair, spiky"),
}
# Length alone, binding to the hair word that follows ("长长的黑发", "long blue hair").
HAIR_LENGTHS = {"long": ("长长的 长长 飘逸的", "long"), "short": ("短短的", "short")}
EYES = ("眼睛 眼 瞳 瞳孔 眼眸 双眼", "eyes eye eyed")
CLOTHES = {
    "dress": ("裙子 连衣裙 裙 长裙 短裙 礼服", "dress skirt gown"),
    "school uniform": ("校服 制服 学生服", "school uniform, uniform"),
    "sailor uniform": ("水手服 水手制服", "sailor uniform, sailor suit"),
    "hoodie": ("卫衣 连帽衫", "hoodie"),
    "t-shirt": ("t恤 短袖 体恤", "t shirt, tee, tshirt"),
    "sweater": ("毛衣 针织衫", "sweater jumper cardigan"),
    "coat": ("外套 大衣 风衣 羽绒服", "coat jacket parka"),
    "kimono": ("和服 浴衣", "kimono yukata"),
    "suit": ("西装 西服", "suit tuxedo"),
    "shirt": ("衬衫 衬衣", "shirt blouse"),
    "swimsuit": ("泳衣 泳装", "swimsuit bikini"),
}
ACCESSORIES = {
    "glasses": ("眼镜 框架眼镜 圆眼镜", "glasses spectacles eyeglasses"),
    "sunglasses": ("墨镜 太阳镜 太阳眼镜", "sunglasses shades"),
    "hat": ("帽子 礼帽", "hat cap"),
    "straw hat": ("草帽 遮阳帽", "straw hat, sun hat"),
    "beanie": ("毛线帽 针织帽", "beanie"),
    "witch hat": ("巫师帽 女巫帽 魔法帽", "witch hat, wizard hat"),
    "headphones": ("耳机 头戴耳机 头戴式耳机", "headphones headset earphones"),
    "cat ears": ("猫耳 猫耳朵 猫耳发箍", "cat ears, nekomimi"),
    "bunny ears": ("兔耳 兔耳朵 兔耳发箍", "bunny ears, rabbit ears"),
    "scarf": ("围巾 围脖", "scarf"),
    "ribbon": ("蝴蝶结 发带 丝带", "ribbon, bow, hair bow"),
    "flower": ("发花 头花 花环 花冠 一朵花", "flower crown, hair flower, flower"),
    "crown": ("皇冠 王冠", "crown tiara"),
}
# Also read from a photo ("anime me"); said, it is drawn the same way.
FACIAL_HAIR = {
    "beard": ("胡子 大胡子 络腮胡 胡须 山羊胡 胡茬", "beard, bearded, stubble, goatee"),
    "moustache": ("小胡子 八字胡", "moustache, mustache, moustached, mustached"),
}
ACTIONS = {
    "reading": ("看书 读书 阅读 看着书 翻书 看小说", "reading, read, reads, book, books, novel"),
    "running": ("跑步 奔跑 跑 飞奔", "running runs run jogging"),
    "waving": ("挥手 招手 打招呼 挥着手", "waving waves wave"),
    "eating": ("吃东西 吃饭 吃 吃着 啃 冰淇淋 蛋糕 饭团 零食",
               "eating, eats, eat, ice cream, cake, snack, onigiri"),
    "sleeping": ("睡觉 睡着 打盹 睡 闭着眼", "sleeping sleeps asleep napping nap"),
    "singing": ("唱歌 歌唱 唱", "singing sings sing"),
    "drinking": ("喝茶 喝咖啡 喝 喝着 茶 咖啡 奶茶", "drinking, drinks, drink, sipping, tea, "
                 "coffee, milk tea"),
    "smiling": ("微笑 笑 大笑 笑着", "smiling smile smiles laughing"),
    "playing guitar": ("弹吉他 吉他", "playing guitar, plays guitar, guitar"),
    "listening to music, music": ("听音乐 听歌", "listening to music, music"),
}
SCENES = {
    "beach": ("海边 沙滩 海滩 大海 海 海岸", "beach seaside sea ocean shore"),
    "cherry blossoms": ("樱花 樱花树 樱花树下 樱花雨 花瓣", "cherry blossoms, cherry blossom, sakura, "
                        "cherry tree, cherry trees, petals"),
    "city night": ("城市 都市 街道 街头 霓虹 东京 城市夜景 夜景", "city street downtown neon tokyo"),
    "classroom": ("教室 课堂 学校", "classroom school"),
    "forest": ("森林 树林 林间 丛林", "forest woods woodland jungle"),
    "snow": ("雪地 下雪 雪 雪中 雪天 冬天", "snow snowy snowing winter snowfall"),
    "space": ("太空 宇宙 星空 银河 外太空", "space, galaxy, outer space, starry sky, milky way, stars"),
    "flower field": ("花田 花海 花丛 草地 草原 花", "flower field, meadow, flowers, field"),
}
TIMES = {
    "morning": ("早上 清晨 早晨 上午 日出", "morning sunrise dawn"),
    "day": ("白天 中午 阳光 晴天 下午 蓝天 白云", "day daytime noon sunny afternoon"),
    "sunset": ("黄昏 夕阳 傍晚 日落 晚霞", "sunset, dusk, evening, twilight, golden hour"),
    "night": ("晚上 夜晚 夜里 深夜 夜 月光 月亮", "night moonlight midnight moon nighttime"),
}
STYLES = {
    "ghibli": ("宫崎骏 吉卜力 宫崎 龙猫", "ghibli, miyazaki, studio ghibli"),
    "shinkai": ("新海诚 你的名字 天气之子", "shinkai, makoto shinkai, your name"),
    "paprika": ("今敏 红辣椒 paprika", "paprika, satoshi kon"),
}
NEGATIONS = ("不 没 没有 无 别 不要 不戴 没戴 不穿 没穿 不留 没留", "no not without doesn't don't isn't "
             "never nor")
# Words that carry no slot: measure words, verbs of wearing, particles, polite requests. They are
# consumed so that what is left over is a word we truly do not know.
FILLERS = (
    "的 地 得 一 个 一个 一位 位 只 一只 名 一名 在 于 下 上 里 中 边 旁 前 着 了 和 与 跟 及 还 也 留 "
    "戴 戴着 穿 穿着 是 有 拿 拿着 很 非常 超 特别 帮我 请 我想要 我要 想要 生成 画 画一个 画一张 "
    "一张 张 的图 张图 一张图 图片 照片 头像 看 件 一件 条 一条 顶 一顶 副 一副 双 一双 套 一套 色 颜色 长着 留着 它 正在 在那里 站 站着 坐 坐着 树下 树 的样子 "
    "风格 画风 动漫 二次元 可爱 可爱的 漂亮 美丽 好看 那 这 些 把 但是 但 可是 而且 并且 然后",
    "a an the with and in on at of under by near during while to from into over who whose is "
    "are has have having her his its their it they wearing wears wear dressed that this "
    "some very pretty cute beautiful picture image drawing draw me please make generate create "
    "anime style colored coloured color colour looking holding standing sitting as like lots "
    "little small big young for s but also then could can would you i want like",
)
ZH = {
    "girl": "女孩", "boy": "男孩", "woman": "女士", "man": "男士", "old man": "老爷爷",
    "old woman": "老奶奶", "child": "小朋友", "cat": "小猫", "dog": "小狗",
    "black": "黑", "white": "白", "silver": "银", "blonde": "金", "brown": "棕", "red": "红",
    "pink": "粉", "light blue": "浅蓝", "blue": "蓝", "green": "绿", "purple": "紫",
    "orange": "橙", "grey": "灰",
    "long": "长", "short": "短", "bob": "波波头", "ponytail": "马尾", "twintails": "双马尾",
    "spiky": "刺猬头",
    "dress": "连衣裙", "school uniform": "校服", "sailor uniform": "水手服", "hoodie": "卫衣",
    "t-shirt": "T恤", "sweater": "毛衣", "coat": "外套", "kimono": "和服", "suit": "西装",
    "shirt": "衬衫", "swimsuit": "泳衣",
    "glasses": "眼镜", "sunglasses": "墨镜", "hat": "帽子", "straw hat": "草帽",
    "beanie": "毛线帽", "witch hat": "巫师帽", "headphones": "耳机", "cat ears": "猫耳",
    "bunny ears": "兔耳", "scarf": "围巾", "ribbon": "蝴蝶结", "flower": "头花", "crown": "皇冠",
    "beard": "胡子", "moustache": "小胡子",
    "reading": "看书", "running": "奔跑", "waving": "挥手", "eating": "吃东西",
    "sleeping": "睡觉", "singing": "唱歌", "drinking": "喝饮料", "smiling": "微笑",
    "playing guitar": "弹吉他", "listening to music, music": "听音乐",
    "beach": "在海边", "cherry blossoms": "在樱花树下", "city night": "在城市的街头",
    "classroom": "在教室里", "forest": "在森林里", "snow": "在雪地里", "space": "在星空中",
    "flower field": "在花海中",
    "morning": "清晨", "day": "白天", "sunset": "夕阳下", "night": "夜晚",
    "ghibli": "宫崎骏", "shinkai": "新海诚", "paprika": "今敏《红辣椒》",
}
