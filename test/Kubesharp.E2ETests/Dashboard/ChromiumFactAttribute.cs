namespace Kubesharp.E2ETests.Dashboard;

/// <summary>
/// A test driving headless Chromium; skipped with the reason when the browser is missing, except under CI=true,
/// where a missing prerequisite fails the test instead of hiding it.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.Find() is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "chromium is not installed (Debian package chromium).";
        }
    }
}
