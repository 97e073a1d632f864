"""Everything the bot says, in one place."""
from __future__ import annotations

WORKING = "正在生成…完成后会马上发给你。"
WELCOME = ("欢迎关注萌像！\n"
           "· 发送「动漫化」（或「头像」），再发一张照片，得到你的动漫头像\n"
           "· 发送「表情包 开心」（换成你想要的词），再发一张照片，得到你的表情包\n"
           "· 发一段语音描述想要的画面，我会先向你确认\n"
           "发送「帮助」随时查看说明。")
HELP = ("用法：\n"
        "· 「动漫化」/「头像」+ 一张照片 → 动漫头像\n"
        "· 「表情包 开心」+ 一张照片 → 表情包（「开心」可换成别的词）\n"
        "· 一段语音描述 → 先确认，再生成图片\n"
        "照片和结果都会在 72 小时后删除；取消关注会删除你的全部数据。")
ASK_PHOTO = "请发送一张照片（正脸、清晰的效果最好）。"
ASK_STICKER_PHOTO = "请发送一张照片，我会把它做成「{text}」表情包。"
ASK_STICKER_TEXT = "请在「表情包」后面写上文字，例如：表情包 开心"
MENU = ("收到照片！想要什么？\n"
        "· 回复「动漫化」生成动漫头像\n"
        "· 回复「表情包 开心」做表情包（「开心」可换成别的词）")
UNKNOWN = "没看懂这句话。发送「动漫化」或「表情包 开心」再发照片；发送「帮助」查看说明。"
REFUSED = "抱歉，这条内容不符合平台规范，无法处理。请换一张照片或换个说法。"
HELD = "已提交审核，审核通过后会把结果发给你。"
HELD_TEXT = "已提交审核，请稍候。"
THROTTLED = "发得太快啦，请稍等一会儿再试。"
PHOTO_UNREADABLE = "这张图片无法读取，请换一张 JPG 或 PNG 照片再试。"
PHOTO_TOO_LARGE = "这张图片太大了，请换一张小一点的照片。"
VOICE_UNREADABLE = "这段语音无法识别，请再说一次，或直接发文字描述。"
MEDIA_UNAVAILABLE = "暂时取不到你发的内容，请稍后再发一次。"
BUSY = "服务暂时繁忙，请稍后再试。"
CONFIRMED = "好的，开始生成…"
CANCELLED = "已取消。想重新开始，发一段语音或「帮助」。"
FAILED_GENERIC = "抱歉，这次没有生成成功，请换一张照片再试。"
CONFIRM_HINT = "回复 1 确认，或直接说出修改"
NOT_SUPPORTED = "暂时只能处理文字、照片和语音。发送「帮助」查看说明。"

FAILURES = {
    "no_face": "照片里没有找到人脸，请换一张正脸、清晰的照片。",
    "nothing_heard": "语音里没有听到内容，请再说一次。",
    "asr_model_missing": "暂时无法识别语音，请直接发文字描述。",
    "confirmation_timeout": "太久没有确认，已取消。想重新开始，再发一段语音。",
}


def question(text: str) -> str:
    return f"{text}\n{CONFIRM_HINT}"


def job_outcome(job) -> str:
    """A job that ended without a picture, in words."""
    if job.state == "blocked":
        return REFUSED
    if job.state == "cancelled":
        return FAILURES.get(job.error_code, CANCELLED)
    return FAILURES.get(job.error_code, FAILED_GENERIC)
