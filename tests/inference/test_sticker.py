"""make_sticker end to end on real photos: a transparent 240x240 sticker of the person, cut
out, outlined, captioned, optionally animated, placed by the template."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inference.errors import NoFaceError
from inference.faces import detect_faces
from inference.faces import regions
from inference.sticker import StickerResult, Template, builtin_templates, make_sticker
from inference.sticker.animate import GIF_LIMIT_BYTES
from inference.sticker.caption import FontNotFoundError, find_font


@pytest.fixture(scope="module")
def happy(astronaut) -> StickerResult:
    return make_sticker(astronaut, text="开心")


def _alpha(image: Image.Image) -> np.ndarray:
    return np.asarray(image.getchannel("A"))


def _on(image: Image.Image, colour) -> np.ndarray:
    background = Image.new("RGBA", image.size, colour)
    return np.asarray(Image.alpha_composite(background, image).convert("RGB"))


def test_the_sticker_is_a_240_png_with_a_larger_preview(happy):
    assert happy.sticker.size == (240, 240) and happy.sticker.mode == "RGBA"
    assert happy.preview.size == (480, 480) and happy.preview.mode == "RGBA"
    files = happy.encode()
    assert set(files) == {"sticker", "preview"}
    assert Image.open(io.BytesIO(files["sticker"])).size == (240, 240)
    assert files["sticker"][:8] == b"\x89PNG\r\n\x1a\n"
    assert happy.engine == "procedural-sticker-v1" and happy.path == "embedded"
    metadata = happy.as_metadata()
    assert metadata["expression"]["name"] == "happy" and metadata["engine"] == happy.engine
    assert set(metadata["timings"]) >= {"detect", "warp", "cutout", "compose"}


def test_the_background_is_transparent_outside_the_cut_out(happy, astronaut):
    alpha = _alpha(happy.preview)
    assert alpha[:12, :12].max() == 0 and alpha[:12, -12:].max() == 0  # corners
    coverage = (alpha > 0).mean()
    assert 0.2 < coverage < 0.75
    # The face itself is opaque: find it again on the sticker and look at its middle.
    faces = detect_faces(_on(happy.preview, (255, 255, 255, 255)))
    assert faces, "the person's face is not found on the sticker"
    nose = faces[0].landmarks[30].astype(int)
    assert alpha[nose[1], nose[0]] == 255
    # The astronaut photo's backdrop beside her head is gone (transparent or white outline).
    left_of_head = int(faces[0].landmarks[0, 0]) - 60
    row = _on(happy.preview, (0, 255, 0, 255))[nose[1], max(0, left_of_head - 20):left_of_head]
    assert (row == (0, 255, 0)).all(axis=1).mean() > 0.8


def test_a_white_outline_surrounds_the_head(happy):
    rgba = np.asarray(happy.preview)[: int(480 * 0.72)]  # above the caption
    opaque = rgba[..., 3] > 250
    inner = opaque.copy()
    inner[2:-2, 2:-2] = opaque[2:-2, 2:-2] & opaque[:-4, 2:-2] & opaque[4:, 2:-2] \
        & opaque[2:-2, :-4] & opaque[2:-2, 4:]
    boundary = opaque & ~inner  # the outermost opaque pixels
    colours = rgba[boundary][:, :3].astype(int)
    assert len(colours) > 200
    assert (colours.min(axis=1) > 200).mean() > 0.9


def test_the_caption_is_drawn_with_fill_and_outline(astronaut):
    with_caption = make_sticker(astronaut, text="666")
    without = make_sticker(astronaut, text="666", caption=False)
    a, b = np.asarray(with_caption.sticker).astype(int), np.asarray(without.sticker).astype(int)
    changed = np.abs(a - b).sum(axis=-1) > 30
    ys, xs = np.nonzero(changed)
    assert len(ys) > 300
    assert ys.min() > 240 * 0.7  # in the caption box at the bottom
    caption = a[changed]
    assert (caption[:, :3].min(axis=1) > 220).sum() > 100  # white letters
    assert (caption[:, :3].max(axis=1) < 60).sum() > 100  # dark outline
    assert with_caption.caption == "666" and without.caption == ""


def test_a_custom_caption_replaces_the_text(astronaut):
    result = make_sticker(astronaut, text="开心", caption="周末愉快")
    assert result.caption == "周末愉快" and result.expression.name == "happy"


def test_the_animation_is_a_small_transparent_looping_gif(astronaut):
    result = make_sticker(astronaut, text="惊讶", animated=True)
    assert result.animation is not None
    assert len(result.animation) <= GIF_LIMIT_BYTES
    gif = Image.open(io.BytesIO(result.animation))
    assert gif.format == "GIF" and gif.size == (240, 240)
    assert gif.n_frames >= 6
    assert gif.info.get("loop") == 0
    sizes = []
    for index in range(gif.n_frames):
        gif.seek(index)
        frame = gif.convert("RGBA")
        alpha = np.asarray(frame.getchannel("A"))
        assert alpha[:10, :10].max() == 0  # transparent corners in every frame
        sizes.append((alpha > 0).sum())
    assert max(sizes) > min(sizes) * 1.05  # the zoom really moves
    assert "animation" in result.encode()


@pytest.mark.parametrize("text", ["无语", "哈哈哈"])
def test_blink_and_shake_animations_also_fit(astronaut, text):
    result = make_sticker(astronaut, text=text, animated=True, caption=False)
    assert len(result.animation) <= GIF_LIMIT_BYTES
    assert Image.open(io.BytesIO(result.animation)).n_frames >= 6


def _centroid_y(image: Image.Image) -> float:
    alpha = _alpha(image).astype(float)
    ys = np.arange(alpha.shape[0])[:, None]
    return float((alpha * ys).sum() / alpha.sum()) / alpha.shape[0]


def test_templates_place_face_and_caption(astronaut):
    templates = {t.id: t for t in builtin_templates()}
    classic = make_sticker(astronaut, text="开心", caption=False, template=templates["classic"])
    headline = make_sticker(astronaut, text="开心", caption=False, template=templates["headline"])
    assert _centroid_y(headline.preview) > _centroid_y(classic.preview) + 0.1
    captioned = make_sticker(astronaut, text="开心", template=templates["headline"])
    changed = np.abs(np.asarray(captioned.sticker).astype(int)
                     - np.asarray(headline.sticker).astype(int)).sum(axis=-1) > 30
    assert np.nonzero(changed)[0].max() < 240 * 0.3  # the headline caption is at the top


def test_a_template_background_fills_the_sticker(astronaut):
    burst = {t.id: t for t in builtin_templates()}["burst"]
    result = make_sticker(astronaut, text="开心", template=burst)
    alpha = _alpha(result.sticker)
    assert alpha[120, 8] == 255  # inside the frame: opaque background
    assert result.template_id == "burst"


def test_admin_templates_round_trip_with_an_image_background(astronaut):
    background = Image.new("RGB", (300, 200), (10, 200, 30))
    template = Template(id="admin-7", name="绿", background=background, caption_box=(0.1, 0.0, 0.9, 0.2),
                        face_center=(0.5, 0.6), face_scale=0.7, fill="#ff0000", outline="#ffffff")
    data = template.to_dict()
    assert data["background"] == "image" and data["caption_box"] == [0.1, 0.0, 0.9, 0.2]
    restored = Template.from_dict(data, background=background)
    assert restored.face_center == (0.5, 0.6) and restored.background is background
    result = make_sticker(astronaut, text="开心", template=restored)
    corner = np.asarray(result.sticker)[235, 3]
    assert tuple(corner) == (10, 200, 30, 255)


def test_builtin_templates_are_valid_and_serialisable():
    import json

    templates = builtin_templates()
    assert templates[0].id == "classic"
    assert len({t.id for t in templates}) == len(templates) >= 3
    for template in templates:
        data = json.loads(json.dumps(template.to_dict()))
        assert Template.from_dict(data).to_dict() == data


def test_no_face_asks_for_a_clear_frontal_photo():
    blank = np.full((400, 300, 3), 180, np.uint8)
    with pytest.raises(NoFaceError) as caught:
        make_sticker(blank, text="开心")
    assert caught.value.code == "no_face"
    assert "frontal" in str(caught.value)


def test_a_missing_font_is_a_clear_error(tmp_path):
    with pytest.raises(FontNotFoundError, match="font"):
        find_font(tmp_path / "nope.ttf")
    assert find_font().endswith((".ttc", ".ttf", ".otf"))


@pytest.mark.parametrize("photo", ["obama.jpg", "biden.jpg"])
@pytest.mark.parametrize("text", ["大笑", "哭"])
def test_fixture_faces_stay_recognisable_on_the_sticker(face_photo, photo, text):
    from inference.faces import descriptor_distance, face_descriptor
    from inference.faces.descriptor import SAME_PERSON_DISTANCE

    rgb = face_photo(photo)
    result = make_sticker(rgb, text=text, caption=False)
    rendered = _on(result.preview, (255, 255, 255, 255))
    faces = detect_faces(rendered)
    assert faces, "no face found on the sticker"
    original = face_descriptor(rgb, detect_faces(rgb)[0])
    assert descriptor_distance(original, face_descriptor(rendered, faces[0])) < SAME_PERSON_DISTANCE


def test_the_anime_style_keeps_the_expression_and_the_person(astronaut):
    result = make_sticker(astronaut, text="惊讶", style="anime")
    assert result.path == "anime"
    assert result.engine.startswith("procedural-sticker-v1+")
    assert "anime" in result.as_metadata()
    faces = detect_faces(_on(result.preview, (255, 255, 255, 255)))
    assert faces, "no face found on the anime sticker"
    points = faces[0].landmarks
    eye_to_mouth = np.linalg.norm(points[[48, 54]].mean(0) - points[regions.EYES].mean(0))
    assert (points[66, 1] - points[62, 1]) / eye_to_mouth > 0.22  # still wide open (photo: 0.17)


def _skin_tone(rgb: np.ndarray, skin: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[skin].astype(float).mean(axis=0)


@pytest.mark.parametrize("photo", ["astronaut", "biden.jpg"])
def test_the_anime_style_keeps_the_persons_skin_tone(astronaut, face_photo, photo):
    from inference.anime import stylize
    from inference.sticker.cutout import head_regions, keep_skin_tone
    from inference.sticker.headcrop import crop_head

    rgb = astronaut if photo == "astronaut" else face_photo(photo)
    crop = crop_head(rgb, detect_faces(rgb)[0].landmarks)
    styled = stylize(crop.image, mode="full").image
    styled = np.asarray(styled.convert("RGB")) if isinstance(styled, Image.Image) else styled
    skin, allowed = head_regions(crop)
    tone = _skin_tone(crop.image, skin)
    assert np.linalg.norm(_skin_tone(styled, skin) - tone) > 4  # the style drifts the skin
    kept = keep_skin_tone(styled, crop.image, crop)
    assert np.linalg.norm(_skin_tone(kept, skin) - tone) < 2
    # Only skin moves: the background keeps the style's colours.
    assert np.abs(kept[~allowed].astype(int) - styled[~allowed]).mean() < 1


def test_the_command_line_writes_sticker_preview_gif_and_metadata(tmp_path):
    import json

    from skimage import data

    from inference.__main__ import main

    photo = tmp_path / "me.png"
    Image.fromarray(data.astronaut()).save(photo)
    out = tmp_path / "out"
    assert main(["sticker", str(photo), "--text", "哭", "--template", "pastel", "--animated",
                 "--out", str(out)]) == 0
    assert Image.open(out / "sticker.png").size == (240, 240)
    assert Image.open(out / "preview.png").size == (480, 480)
    assert Image.open(out / "animation.gif").format == "GIF"
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["expression"]["name"] == "cry" and metadata["template"] == "pastel"


@pytest.mark.parametrize("change", [{"caption_box": [0.5, 0.2, 0.4, 0.9]}, {"fill": "not-a-colour"},
                                    {"face_scale": 3}, {"colour": "#fff"}])
def test_bad_admin_templates_are_refused_with_a_stable_code(change):
    from inference.errors import InferenceError

    data = {**builtin_templates()[0].to_dict(), **change}
    with pytest.raises(InferenceError) as caught:
        Template.from_dict(data)
    assert caught.value.code == "bad_template"


def _caption_pixels(text: str, size: int = 240) -> np.ndarray:
    from inference.sticker.caption import draw_caption

    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw_caption(canvas, text, (0.03, 0.76, 0.97, 0.985), font_path=find_font(), font_size=0.16,
                 fill="#ffffff", outline="#1a1a1a")
    return np.asarray(canvas)


def _colourful(rgba: np.ndarray) -> int:
    """Opaque pixels of a saturated colour: neither the white fill nor the dark outline."""
    rgb = rgba[..., :3].astype(int)
    return int(((rgba[..., 3] > 200) & (rgb.max(axis=-1) - rgb.min(axis=-1) > 100)).sum())


def test_an_emoji_caption_is_drawn_in_colour():
    # Issue #12: 😂 as the text gave no caption although the metadata said caption '😂'.
    alone, mixed, plain = _caption_pixels("😂"), _caption_pixels("笑死😂😂"), _caption_pixels("笑死")

    assert _colourful(alone) > 300
    assert _colourful(mixed) > 2 * 300 and _colourful(plain) == 0
    assert (mixed[..., 3] > 0).sum() > 1.5 * (plain[..., 3] > 0).sum()


def test_an_emoji_sticker_has_its_caption(astronaut):
    captioned = make_sticker(astronaut, text="😂")
    bare = make_sticker(astronaut, text="😂", caption=False)

    assert captioned.caption == "😂"
    changed = np.abs(np.asarray(captioned.sticker).astype(int)
                     - np.asarray(bare.sticker).astype(int)).sum(axis=-1) > 30
    assert changed[int(240 * 0.7):].sum() > 200


def test_characters_no_font_draws_are_left_out_not_drawn_as_boxes():
    assert np.array_equal(_caption_pixels("开心\ue000"), _caption_pixels("开心"))
    assert _caption_pixels("\ue000").max() == 0


def test_captions_up_to_the_limit_fit_two_legible_lines_in_every_template():
    from inference.sticker.caption import CAPTION_MAX_CHARS, MIN_FONT_FRACTION, fit_caption

    longest = ["我" * CAPTION_MAX_CHARS, "👍🏽" * CAPTION_MAX_CHARS,
               "see you soon!!!!"[:CAPTION_MAX_CHARS], "周末愉快" * 4]
    for template in builtin_templates():
        for text in longest:
            layout = fit_caption(text, (240, 240), template.caption_box, font_path=find_font(),
                                 font_size=template.font_size, max_lines=template.caption_lines)
            assert len(layout.lines) <= 2, (template.id, text)
            assert layout.size >= round(MIN_FONT_FRACTION * 240) >= 18
            assert "…" not in "".join(layout.text)  # nothing cut
            box_height = (template.caption_box[3] - template.caption_box[1]) * 240
            assert layout.height <= box_height + 1, (template.id, text)


def test_two_lines_are_balanced_and_do_not_touch():
    from inference.sticker.caption import fit_caption

    layout = fit_caption("不好意思啦哈哈哈哈哈哈哈", (240, 240), (0.03, 0.76, 0.97, 0.985),
                         font_path=find_font(), font_size=0.16)
    assert [len(line) for line in layout.text] in ([6, 6], [7, 5], [5, 7])
    rows = (_caption_pixels("不好意思啦哈哈哈哈哈哈哈")[..., 3] > 0).any(axis=1)
    assert rows.sum() > 2 * layout.size  # two lines of letters, each about a font size tall


def test_caption_length_counts_what_a_reader_counts():
    from inference.sticker.caption import CAPTION_MAX_CHARS, caption_fits, caption_length

    assert caption_length("👍🏽👨‍👩‍👧🇨🇳é") == 4
    assert caption_fits("我" * CAPTION_MAX_CHARS) and not caption_fits("我" * (CAPTION_MAX_CHARS + 1))
    assert caption_fits("  " + "哈" * CAPTION_MAX_CHARS + " ")


def test_an_anime_sticker_keeps_the_skin_tone_of_the_photo_sticker(astronaut):
    """End to end: the anime style's sticker has the photo sticker's skin tone on the cheeks."""
    photo = make_sticker(astronaut, text="开心", caption=False).preview
    anime = make_sticker(astronaut, text="开心", caption=False, style="anime").preview
    photo_rgb = np.asarray(photo.convert("RGB"))
    points = detect_faces(photo_rgb)[0].landmarks
    # Cheeks: between the eye's outer corner, the nose and the mouth's corner, on both sides.
    cheeks = np.zeros(photo_rgb.shape[:2], bool)
    for eye, mouth in ((36, 48), (45, 54)):
        centre = (points[eye] + points[mouth] + points[30]) / 3
        radius = int(0.12 * np.linalg.norm(points[36] - points[45]))
        x, y = centre.round().astype(int)
        cheeks[y - radius:y + radius, x - radius:x + radius] = True
    photo_tone = _skin_tone(photo_rgb, cheeks)
    anime_tone = _skin_tone(np.asarray(anime.convert("RGB")), cheeks)
    assert np.linalg.norm(anime_tone - photo_tone) < 4, (photo_tone, anime_tone)
