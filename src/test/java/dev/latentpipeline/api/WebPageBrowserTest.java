package dev.latentpipeline.api;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.api.upload.TestImages;
import dev.latentpipeline.messaging.PreviewPublisher;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The gateway's web page (docs/web-page.md) in a real headless Chromium (Debian's chromium and chromium-driver), as a
 * person uses it: jobs waiting behind others show their place in line, one is cancelled, the other's previews form
 * step by step until its image arrives; img2img from an uploaded image with the strength slider, its details (the
 * PNG's own text included) and re-runs with the same and a new seed; the priority picker and a refused high
 * priority; a bad field; the gallery a page at a time. Screenshots go to target/ (docs/web-page.png is one of them).
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class WebPageBrowserTest {
    private static final File CHROMIUM = new File("/usr/bin/chromium");
    private static final File DRIVER = new File("/usr/bin/chromedriver");
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** About 1.5 s of UNet time with the built-in model: long enough to queue jobs behind. */
    private static final String BLOCKER = "{\"prompt\":\"navy\",\"width\":512,\"height\":512,\"steps\":150,"
            + "\"num_images\":8}";

    @TestHTTPResource("/")
    URL base;
    @Inject
    StatusStore store;
    @Inject
    PreviewPublisher previewsRendered;

    private ChromeDriver browser;
    private Path profile;
    private WebDriverWait wait;

    @BeforeEach
    void openBrowser() throws IOException {
        assumeTrue(CHROMIUM.canExecute() && DRIVER.canExecute(),
                "SKIPPED: the browser test needs Debian's chromium and chromium-driver "
                        + "(apt-get install -y chromium chromium-driver)");
        profile = Files.createTempDirectory("chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER)
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, TIMEOUT);
        wait.pollingEvery(Duration.ofMillis(20));
    }

    @AfterEach
    void closeBrowser() throws IOException {
        if (browser != null) {
            browser.quit();
        }
        if (profile != null) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ---- what a person does on the page ----------------------------------------------------------------------

    private void open(String key) {
        browser.get(base.toString());
        assertEquals("latent-pipeline", browser.getTitle());
        useKey(key);
    }

    /** Types the API key; the page then asks which priorities it may use. */
    private void useKey(String key) {
        type("api-key", key);
        String expected = key.equals(GatewayTestProfile.KEY) ? "high,normal,low" : "normal,low";
        wait.until(b -> expected.equals(b.findElement(By.id("priority")).getAttribute("data-loaded")));
    }

    private void type(String id, String text) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }

    private void fill(String prompt, int size, int steps) {
        type("prompt", prompt);
        type("width", Integer.toString(size));
        type("height", Integer.toString(size));
        type("steps", Integer.toString(steps));
    }

    /** Clicks Generate and returns the id of the card that appears. */
    private String generate() {
        int before = cards().size();
        browser.findElement(By.id("submit")).click();
        wait.withMessage(() -> "no new job card; form error: " + text("form-error"))
                .until(b -> cards().size() == before + 1);
        return cards().get(0).getAttribute("data-id");
    }

    private List<WebElement> cards() {
        return browser.findElements(By.cssSelector("#jobs article.job"));
    }

    private WebElement card(String id) {
        return browser.findElement(By.cssSelector("#jobs article.job[data-id='" + id + "']"));
    }

    private void awaitStatus(String id, String status) {
        wait.withMessage(() -> id + " is " + card(id).getAttribute("data-status") + ", not " + status + "; "
                + card(id).getText()).until(b -> status.equals(card(id).getAttribute("data-status")));
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    private void screenshot(String name) throws IOException {
        Path target = Path.of("target", name);
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    }

    private static int[] pixels(String id) throws IOException {
        byte[] png = Api.authed().get("/v1/generations/" + id + "/images/0").then().statusCode(200).extract()
                .asByteArray();
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }

    // ---- the tests ---------------------------------------------------------------------------------------------

    /**
     * Two page jobs queue behind long ones on the one UNet worker (one job at a time in this profile): the second
     * shows its place and estimate; the first is cancelled. Then a large job shows its previews forming and then its
     * image. It starts once the preview renderer has caught up: one thread renders every job's previews, in turns,
     * and a preview rendered after its job's end is not sent, so the long jobs' last previews would otherwise take
     * the time the large job's need.
     */
    @Test
    void waitingJobsShowTheirPlaceOneIsCancelledAnotherFormsStepByStep() throws IOException {
        Api.denoiseOnEveryPartition(); // the worker seen on every partition
        open(GatewayTestProfile.KEY);
        // One long job completes first, so the line is priced from a job of its shape; three more keep the worker
        // busy (about 4 s: the browser, slow on a loaded machine, needs a few to submit and show the page's jobs).
        // 3 + 2 page jobs stay within the profile's in-flight bound.
        assertEquals("completed", Api.awaitTerminal(Api.submit(BLOCKER), TIMEOUT).getString("status"));
        List<String> blockers = List.of(Api.submit(BLOCKER), Api.submit(BLOCKER), Api.submit(BLOCKER));
        fill("a blue square", 64, 10);
        wait.until(b -> blockers.stream().anyMatch(id -> "denoising".equals(Api.status(id).getString("status"))));
        String cancelled = generate();
        type("prompt", "a green square"); // one field: the fewer browser round trips here, the more time to spare
        String next = generate();

        // Ahead of it: long jobs running or waiting, and the page's first job (the count falls as they run).
        WebElement queue = card(next).findElement(By.cssSelector(".queue"));
        wait.withMessage(() -> "no place in line shown: " + card(next).getText() + "; "
                + Api.status(next).prettify()).until(b -> queue.getAttribute("data-position") != null);
        @SuppressWarnings("unchecked") // both read at once: the next event may move them
        List<String> place = (List<String>) js("return [arguments[0].dataset.position, arguments[0].textContent];",
                queue);
        int ahead = Integer.parseInt(place.get(0));
        assertTrue(ahead >= 2 && ahead <= 4, place.toString());
        String when = "(in \\d+ (s|min)|any moment)";
        assertTrue(place.get(1).matches(ahead + " jobs ahead · starts " + when + " · done " + when), place.get(1));
        screenshot("web-page-waiting.png");

        card(cancelled).findElement(By.cssSelector("button.cancel")).click();
        awaitStatus(cancelled, "cancelled");
        assertFalse(card(cancelled).findElement(By.cssSelector("button.cancel")).isDisplayed(),
                "nothing left to cancel");
        assertFalse(card(cancelled).findElement(By.cssSelector(".queue")).isDisplayed());
        assertEquals("cancelled", Api.status(cancelled).getString("status"));
        // The long jobs are not needed any more (202: cancelling; 409: it had already finished).
        blockers.forEach(id -> Api.authed().delete("/v1/generations/" + id).then().statusCode(anyOf(is(202), is(409))));
        for (String id : blockers) {
            String status = Api.awaitTerminal(id, TIMEOUT).getString("status");
            assertTrue(Set.of("completed", "cancelled").contains(status), id + ": " + status);
        }
        awaitStatus(next, "completed");
        assertFalse(card(next).findElement(By.cssSelector(".queue")).isDisplayed(), "no place in line once it has run");

        await().atMost(TIMEOUT).until(() -> previewsRendered.waiting() == 0);
        fill("a red square", 1024, 150);
        type("seed", "7");
        String formed = generate();
        // The picture while the job runs, if the browser catches it there (a moment), else once it has completed.
        wait.until(b -> !card(formed).findElements(By.cssSelector(".pictures img.preview")).isEmpty()
                || "completed".equals(card(formed).getAttribute("data-status")));
        screenshot("web-page.png");
        awaitStatus(formed, "completed");
        WebElement done = card(formed);
        // Previews every 4 steps arrived over server-sent events, in order, and stay in the filmstrip.
        List<Integer> steps = done.findElements(By.cssSelector(".filmstrip img")).stream()
                .map(img -> Integer.parseInt(img.getAttribute("data-step"))).toList();
        assertTrue(steps.size() >= 2, "at least two previews: " + steps + ", seen " + done.getAttribute("data-previews")
                + " at steps " + done.getAttribute("data-preview-steps") + "; previews dropped by the renderer: "
                + previewsRendered.dropped());
        for (int i = 1; i < steps.size(); i++) {
            assertTrue(steps.get(i) > steps.get(i - 1), "previews move forward: " + steps);
        }
        assertTrue(steps.stream().allMatch(s -> s > 0 && s % 4 == 0), steps.toString());
        assertTrue(done.findElement(By.cssSelector(".filmstrip img")).getAttribute("src")
                .startsWith("data:image/jpeg;base64,"));
        wait.until(b -> ((Number) js("const i = arguments[0].querySelector('.pictures img.generated');"
                + "return i && i.complete ? i.naturalWidth : 0;", card(formed))).intValue() == 1024);
        String src = done.findElement(By.cssSelector(".pictures img.generated")).getAttribute("src");
        assertTrue(src.startsWith(RealInfrastructure.s3Endpoint()) && src.contains("X-Amz-Signature="),
                "a presigned object URL: " + src);
        // The gallery reloads and shows the newest completed job first.
        wait.until(b -> formed.equals(js("const t = document.querySelector('#gallery .tile');"
                + "return t && t.querySelector('img').complete ? t.dataset.id : null;")));
    }

    @Test
    void img2imgFromAnUploadedImageThenItsDetailsAndReRuns() throws IOException {
        Path init = Files.createTempFile("init", ".png");
        Files.write(init, TestImages.solid(64, 64, new Color(40, 160, 60), "png"));
        open(GatewayTestProfile.KEY);
        browser.findElement(By.id("init-file")).sendKeys(init.toString());
        wait.withMessage(() -> text("init-status"))
                .until(b -> b.findElement(By.id("img2img")).getAttribute("data-key").startsWith("inputs/"));
        String key = browser.findElement(By.id("img2img")).getAttribute("data-key");
        assertTrue(text("init-status").contains("64×64"), text("init-status"));
        WebElement strength = browser.findElement(By.id("strength"));
        assertTrue(strength.isEnabled(), "the slider works once there is an image");
        for (int i = 0; i < 4; i++) {
            strength.sendKeys(Keys.ARROW_LEFT); // 0.8 in steps of 0.05
        }
        assertEquals("0.60", text("strength-value"));
        fill("a blue square", 64, 10);
        type("seed", "11");
        String first = generate();
        awaitStatus(first, "completed");
        JsonPath firstJob = Api.status(first);
        assertEquals(key, firstJob.getString("parameters.init_image"));
        assertEquals(0.6, firstJob.getDouble("parameters.strength"), 1e-9);

        // Details: parameters, timings per stage, and the text the VAE stage wrote into the PNG.
        card(first).findElement(By.cssSelector("button.details")).click();
        wait.until(b -> "0".equals(b.findElement(By.id("details-png")).getAttribute("data-image")));
        assertTrue(text("png-parameters").startsWith("a blue square\nSteps: 10, Sampler: "), text("png-parameters"));
        assertTrue(text("png-parameters").contains("Seed: 11, Size: 64x64, Denoising strength: 0.6, Init image: "
                + key), text("png-parameters"));
        assertTrue(text("png-latent-pipeline").contains("\"init_image\": \"" + key + "\""),
                text("png-latent-pipeline"));
        List<String> parameters = browser.findElements(By.cssSelector("#details-parameters tr")).stream()
                .map(WebElement::getText).toList();
        assertTrue(parameters.contains("strength 0.6") && parameters.contains("seed 11"), parameters.toString());
        List<String> stages = browser.findElements(By.cssSelector("#details-timings tr td:first-child")).stream()
                .map(WebElement::getText).toList();
        assertEquals(List.of("text-encoder", "unet", "vae"), stages);
        screenshot("web-page-details.png");

        // The same seed again: the same image.
        browser.findElement(By.id("rerun-same")).click();
        wait.until(b -> !b.findElement(By.id("details")).isDisplayed());
        String same = cards().get(0).getAttribute("data-id");
        assertNotEquals(first, same);
        awaitStatus(same, "completed");
        JsonPath sameJob = Api.status(same);
        assertEquals(11, sameJob.getLong("parameters.seed"));
        assertEquals(key, sameJob.getString("parameters.init_image"));
        assertArrayEquals(pixels(first), pixels(same), "the same request and seed make the same image");

        // A new seed: everything else kept.
        card(same).findElement(By.cssSelector("button.details")).click();
        wait.until(b -> b.findElement(By.id("details")).isDisplayed()
                && same.equals(b.findElement(By.id("details")).getAttribute("data-id")));
        browser.findElement(By.id("rerun-new")).click();
        wait.until(b -> cards().size() == 3);
        String fresh = cards().get(0).getAttribute("data-id");
        awaitStatus(fresh, "completed");
        JsonPath freshJob = Api.status(fresh);
        assertNotEquals(11, freshJob.getLong("parameters.seed"));
        assertEquals(key, freshJob.getString("parameters.init_image"));
        assertEquals(0.6, freshJob.getDouble("parameters.strength"), 1e-9);
    }

    @Test
    void thePriorityPickerOffersWhatTheKeyMayUseAndARefusalIsShown() {
        open(GatewayTestProfile.KEY);
        assertEquals(List.of("high", "normal", "low"), new Select(browser.findElement(By.id("priority")))
                .getOptions().stream().map(WebElement::getText).toList());
        fill("a white square", 8, 2);
        new Select(browser.findElement(By.id("priority"))).selectByValue("high");
        String high = generate();
        assertEquals("high", card(high).findElement(By.cssSelector(".priority")).getText());
        awaitStatus(high, "completed");

        // Another key may not use high: the picker drops it, and re-running the high job is refused, visibly.
        useKey(GatewayTestProfile.OTHER_KEY);
        assertEquals(List.of("normal", "low"), new Select(browser.findElement(By.id("priority")))
                .getOptions().stream().map(WebElement::getText).toList());
        card(high).findElement(By.cssSelector("button.details")).click();
        wait.until(b -> high.equals(b.findElement(By.id("details")).getAttribute("data-id")));
        browser.findElement(By.id("rerun-same")).click();
        WebElement error = browser.findElement(By.id("details-error"));
        wait.until(b -> error.isDisplayed());
        assertEquals("403 priority_not_allowed: priority: this caller may not submit high-priority work "
                + "(sd.api.high-priority-keys)", error.getText());
        assertEquals(1, cards().size(), "nothing was submitted");
    }

    @Test
    void aBadFieldIsNamed() {
        open(GatewayTestProfile.KEY);
        type("steps", "151");
        browser.findElement(By.id("submit")).click();
        WebElement error = browser.findElement(By.id("form-error"));
        wait.until(b -> error.isDisplayed());
        assertTrue(error.getText().startsWith("400 limit_exceeded: steps: "), error.getText());
        assertTrue(cards().isEmpty());
    }

    @Test
    void theGalleryPages() {
        await().atMost(TIMEOUT).until(() -> store.inFlightCount() == 0);
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            made.add(Api.submit("{\"prompt\":\"gallery " + i + "\",\"width\":8,\"height\":8,\"steps\":1}"));
        }
        made.forEach(id -> assertEquals("completed", Api.awaitTerminal(id, TIMEOUT).getString("status")));
        List<String> newest = Api.authed().get("/v1/generations?status=completed&limit=4").then().statusCode(200)
                .extract().jsonPath().getList("items.id", String.class);

        open(GatewayTestProfile.KEY);
        new Select(browser.findElement(By.id("gallery-size"))).selectByValue("4");
        wait.until(b -> tiles().equals(newest));
        assertFalse(browser.findElement(By.id("newer")).isEnabled(), "the first page has nothing newer");
        browser.findElement(By.id("older")).click();
        wait.until(b -> "1".equals(b.findElement(By.id("gallery")).getAttribute("data-page")));
        List<String> older = tiles();
        assertFalse(older.isEmpty(), "a fifth completed job at least");
        assertTrue(older.stream().noneMatch(newest::contains), older + " repeats " + newest);
        assertTrue(older.contains(made.get(0)), "the oldest of the five is on page 2: " + older);
        assertEquals("page 2", text("gallery-page"));
        browser.findElement(By.id("newer")).click();
        wait.until(b -> "0".equals(b.findElement(By.id("gallery")).getAttribute("data-page")));
        assertEquals(newest, tiles());
        // A tile opens the job's details.
        browser.findElement(By.cssSelector("#gallery .tile")).click();
        wait.until(b -> newest.get(0).equals(b.findElement(By.id("details")).getAttribute("data-id")));
        assertEquals("gallery 4", text("details-title"));
    }

    /** Read in one script: the gallery may be re-rendered between two element lookups. */
    @SuppressWarnings("unchecked")
    private List<String> tiles() {
        return (List<String>) js("return [...document.querySelectorAll('#gallery .tile')].map(t => t.dataset.id);");
    }
}
