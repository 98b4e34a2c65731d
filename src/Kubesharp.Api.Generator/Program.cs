Console.Error.WriteLine("usage: Kubesharp.Api.Generator SPEC OUTDIR");
return 2;
