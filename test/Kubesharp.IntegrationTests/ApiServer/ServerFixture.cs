namespace Kubesharp.IntegrationTests.ApiServer;

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<TestServer>
{
    public const string Name = "api-server";
}
