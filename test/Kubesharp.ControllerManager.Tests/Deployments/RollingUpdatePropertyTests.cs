using FsCheck;
using FsCheck.Fluent;
using Kubesharp.ApiMachinery;
using Kubesharp.ControllerManager.Deployments;

namespace Kubesharp.ControllerManager.Tests.Deployments;

public sealed class RollingUpdatePropertyTests
{
    private static readonly Gen<IntOrString> Budget = Gen.OneOf(
        Gen.Choose(0, 4).Select(i => (IntOrString)i),
        Gen.Elements("0%", "10%", "25%", "50%", "100%").Select(s => (IntOrString)s));

    [Fact]
    public void RollingUpdate_AnyBudgetAndProgress_StaysWithinSurgeAndAvailabilityAndCompletes()
    {
        var gen =
            from replicas in Gen.Choose(0, 15)
            from surge in Budget
            from unavailable in Budget
            from seed in Gen.Choose(0, 10_000)
            select (replicas, surge, unavailable, seed);

        var property = Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var (replicas, surge, unavailable, seed) = input;
            var random = new Random(seed);
            var sim = new RolloutSimulation(Objects.Deployment(replicas: replicas, maxSurge: surge, maxUnavailable: unavailable));
            sim.RunToCompletion();
            var (maxSurge, maxUnavailable) = RollingUpdateBudget.ResolveFenceposts(surge, unavailable, replicas);
            sim.ChangeSpec(s => s.Template!.Spec!.Containers![0].Image = "nginx:2");

            for (var round = 0; round < 500; round++)
            {
                sim.Reconcile();
                var total = sim.ReplicaSets.Sum(r => r.Spec!.Replicas ?? 0);
                if (total > replicas + maxSurge)
                {
                    return false;
                }

                sim.ApplyScaleDowns();
                var available = sim.ReplicaSets.Sum(r => r.Status!.AvailableReplicas ?? 0);
                if (available < replicas - Math.Min(maxUnavailable, replicas))
                {
                    return false;
                }

                sim.ReplicaSetsCatchUp(_ => random.Next(0, 3));
                var done = sim.ReplicaSets.All(r => r.Spec!.Template!.Spec!.Containers![0].Image == "nginx:2" ? (r.Status!.AvailableReplicas == replicas && r.Spec.Replicas == replicas) : r.Spec.Replicas == 0);
                if (done)
                {
                    sim.RunToCompletion();
                    return DeploymentConditions.IsComplete(sim.Deployment, sim.Deployment.Status!);
                }
            }

            return false;
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    [Theory]
    [InlineData("25%", "25%", 10, 3, 2)]
    [InlineData("0%", "0%", 10, 0, 1)]
    [InlineData(0, 0, 5, 0, 1)]
    [InlineData("50%", "50%", 3, 2, 1)]
    [InlineData("1%", "1%", 10, 1, 0)]
    public void ResolveFenceposts_Percentages_SurgeRoundsUpUnavailableRoundsDown(object surge, object unavailable, int replicas, int expectedSurge, int expectedUnavailable)
    {
        var s = surge is int i ? (IntOrString)i : (IntOrString)(string)surge;
        var u = unavailable is int j ? (IntOrString)j : (IntOrString)(string)unavailable;

        Assert.Equal((expectedSurge, expectedUnavailable), RollingUpdateBudget.ResolveFenceposts(s, u, replicas));
    }
}
