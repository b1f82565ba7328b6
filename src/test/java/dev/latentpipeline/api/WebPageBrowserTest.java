package dev.latentpipeline.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The gateway's web page in a real headless Chromium (Debian's chromium and chromium-driver): type a prompt,
 * submit, watch the live status reach completed and the image load from its presigned URL; a job waiting behind
 * others shows its place in line.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class WebPageBrowserTest {
    private static final File CHROMIUM = new File("/usr/bin/chromium");
    private static final File DRIVER = new File("/usr/bin/chromedriver");

    @TestHTTPResource("/")
    URL base;

    private ChromeDriver browser;
    private Path profile;

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
                "--disable-dev-shm-usage", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER)
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
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

    private void type(String id, String text) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }

    @Test
    void submitAndSeeTheImage() {
        browser.get(base.toString());
        assertEquals("latent-pipeline", browser.getTitle());
        type("api-key", GatewayTestProfile.KEY);
        type("prompt", "a red square");
        type("width", "64");
        type("height", "64");
        type("steps", "6");
        browser.findElement(By.id("submit")).click();

        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
        wait.until(b -> "completed".equals(b.findElement(By.id("job-status")).getAttribute("data-status")));
        JavascriptExecutor js = browser;
        wait.until(b -> ((Number) js.executeScript("const i = document.querySelector('#result img');"
                + "return i && i.complete ? i.naturalWidth : 0;")).intValue() == 64);
        String src = browser.findElement(By.cssSelector("#result img")).getAttribute("src");
        assertTrue(src.startsWith(RealInfrastructure.s3Endpoint()), "a presigned object URL: " + src);
        assertTrue(src.contains("X-Amz-Signature="), src);
        // The gallery reloads after completion and shows the new image among the recent ones.
        wait.until(b -> ((Number) js.executeScript("return [...document.querySelectorAll('#gallery img')]"
                + ".filter(i => i.complete && i.naturalWidth > 0 && i.src.includes(arguments[0])).length;",
                browser.findElement(By.id("job-id")).getText())).intValue() == 1);
    }

    @Test
    void aWaitingJobShowsItsPlaceInLineUntilItRuns() {
        Api.denoiseOnEveryPartition();
        browser.get(base.toString());
        type("api-key", GatewayTestProfile.KEY);
        type("width", "64");
        type("height", "64");
        type("steps", "6");
        String blocker = "\"prompt\":\"navy\",\"width\":512,\"height\":512,\"steps\":150,\"num_images\":8";
        List<String> ahead = List.of(Api.submit("{" + blocker + "}"), Api.submit("{" + blocker + "}"));
        new WebDriverWait(browser, Duration.ofSeconds(60)).until(b -> ahead.stream()
                .anyMatch(id -> "denoising".equals(Api.status(id).getString("status"))));
        browser.findElement(By.id("submit")).click();

        // The two long jobs are ahead of it on the one UNet worker.
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
        wait.pollingEvery(Duration.ofMillis(20));
        WebElement queue = browser.findElement(By.id("queue"));
        wait.withMessage(() -> "queue shows '" + queue.getText() + "' position " + queue.getAttribute("data-position")
                + ", status " + browser.findElement(By.id("job-status")).getText() + ", error "
                + browser.findElement(By.id("error")).getText());
        wait.until(b -> queue.isDisplayed() && "2".equals(queue.getAttribute("data-position")));
        assertTrue(queue.getText().startsWith("2 jobs ahead · starts "), queue.getText());
        assertTrue(queue.getText().contains(" · done "), queue.getText());
        wait.until(b -> "completed".equals(b.findElement(By.id("job-status")).getAttribute("data-status")));
        assertTrue(!queue.isDisplayed(), "no place in line once it has run: " + queue.getText());
        ahead.forEach(id -> assertEquals("completed", Api.awaitTerminal(id, Duration.ofSeconds(60))
                .getString("status")));
    }

    @Test
    void aBadRequestShowsWhichFieldIsWrong() {
        browser.get(base.toString());
        type("api-key", GatewayTestProfile.KEY);
        type("steps", "151");
        browser.findElement(By.id("submit")).click();
        new WebDriverWait(browser, Duration.ofSeconds(20))
                .until(b -> "rejected".equals(b.findElement(By.id("job-status")).getAttribute("data-status")));
        assertTrue(browser.findElement(By.id("error")).getText().startsWith("steps:"),
                browser.findElement(By.id("error")).getText());
    }
}
