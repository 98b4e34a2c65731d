using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>Upstream's default normalisation: scale so the highest raw score becomes MaxNodeScore.</summary>
internal static class ScoreNormalization
{
    public static void Default(Span<long> scores, bool reverse)
    {
        long max = 0;
        foreach (var s in scores)
        {
            max = Math.Max(max, s);
        }

        if (max == 0)
        {
            if (reverse)
            {
                scores.Fill(IScorePlugin.MaxNodeScore);
            }

            return;
        }

        for (var i = 0; i < scores.Length; i++)
        {
            var scaled = IScorePlugin.MaxNodeScore * scores[i] / max;
            scores[i] = reverse ? IScorePlugin.MaxNodeScore - scaled : scaled;
        }
    }
}
