return await Kubesharp.KubesharpCommand.RunAsync(args).ConfigureAwait(false);
