// Before any thread the program starts allocates natively, so that all of them share the capped arenas.
Kubesharp.Memory.MallocArenaLimit.Apply();
return await Kubesharp.KubesharpCommand.RunAsync(args).ConfigureAwait(false);
