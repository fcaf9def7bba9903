"""The web page in a real headless Chromium (Debian's chromium and chromium-driver, via Selenium).

Screenshots are kept in reports/test-output/ (git-ignored) for people to look at.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import artifacts
from helpers.serving import predict

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = artifacts.PROJECT_ROOT / "reports" / "test-output"

pytestmark = [pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no chromium/chromedriver on PATH: `apt-get install chromium chromium-driver` "
           "(.ci/run installs them)"),
    pytest.mark.xdist_group("browser")]  # one xdist worker: one browser for the module


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=900,900"):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def open_page(browser, live_server: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server + "/")
    WebDriverWait(browser, 30).until(
        lambda driver: driver.execute_script("return document.body.dataset.ready") == "true")


def wait_for(browser, state: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(
        lambda driver: driver.execute_script("return document.body.dataset.state") == state)


def shown_results(browser) -> list[tuple[str, float, str]]:
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, "#results .result")
    return [(row.find_element(By.CLASS_NAME, "label").text,
             float(row.find_element(By.CLASS_NAME, "bar").get_attribute("style")
                   .split("width:")[1].split("%")[0]),
             row.find_element(By.CLASS_NAME, "probability").text) for row in rows]


def screenshot(browser, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    with artifacts.atomic_path(path) as temporary:
        assert browser.save_screenshot(str(temporary))
    print(f"screenshot: {path}")
    return path


def test_chosen_image_shows_the_top_three_classes_with_bars(browser, live_server: str,
                                                            trained_run: Path,
                                                            tmp_path: Path) -> None:
    from PIL import Image
    from selenium.webdriver.common.by import By

    open_page(browser, live_server)
    assert "10 classes" in browser.find_element(By.ID, "model-info").text
    pixels = artifacts.read_arrays(trained_run / artifacts.DATASET_ARRAYS)["x_test"][0]
    image_path = tmp_path / "test-image.png"
    Image.fromarray(pixels[..., 0]).resize((140, 140), Image.Resampling.NEAREST).save(
        image_path)
    browser.find_element(By.ID, "file-input").send_keys(str(image_path))
    wait_for(browser, "done")
    shown = shown_results(browser)

    expected = predict.Predictor(trained_run)
    converted = predict.image_to_pixels(image_path.read_bytes(), expected.info.input_shape)
    ranked = expected.top_classes(expected.probabilities(converted[np.newaxis]), 3)[0]
    assert [label for label, _, _ in shown] == [entry["class"] for entry in ranked]
    widths = [width for _, width, _ in shown]
    assert widths == sorted(widths, reverse=True) and widths[0] > 0
    assert widths[0] == pytest.approx(100 * ranked[0]["probability"], abs=0.06)
    assert browser.find_element(By.ID, "preview").is_displayed()
    assert screenshot(browser, "browser-upload").stat().st_size > 10_000


def test_drawing_with_the_mouse_is_classified(browser, live_server: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_page(browser, live_server)
    pad = browser.find_element(By.ID, "draw-pad")
    assert pad.is_displayed()  # a grayscale model gets the drawing pad
    # A trouser-like shape: two long vertical strokes joined at the top.
    strokes = ActionChains(browser).move_to_element_with_offset(pad, -50, -110).click_and_hold()
    for dx, dy in ((100, 0), (0, 220), (-45, -180), (-10, 0), (-45, 180), (0, -220)):
        strokes = strokes.move_by_offset(dx, dy)
    strokes.release().perform()
    browser.find_element(By.ID, "classify-drawing").click()
    wait_for(browser, "done")
    shown = shown_results(browser)
    assert len(shown) == 3 and all(label for label, _, _ in shown)
    assert sum(width for _, width, _ in shown) <= 100.5
    screenshot(browser, "browser-drawing")


def test_a_file_that_is_not_an_image_shows_the_servers_reason(browser, live_server: str,
                                                              tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, live_server)
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image at all")
    browser.find_element(By.ID, "file-input").send_keys(str(text_file))
    wait_for(browser, "error")
    message = browser.find_element(By.ID, "error").text
    assert "400" in message and "not a PNG or JPEG image" in message
    assert not shown_results(browser)
