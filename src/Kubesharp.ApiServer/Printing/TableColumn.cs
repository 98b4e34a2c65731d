namespace Kubesharp.ApiServer.Printing;

/// <param name="Priority">0 = always shown, 1 = only with -o wide.</param>
internal sealed record TableColumn(string Name, string Type, string Format, string Description, int Priority = 0);
