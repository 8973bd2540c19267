// nekko-agent: facts, health checks and heartbeats on every node.
// The agent is built in the NodeAgent issue; until then it only says so.
Console.Error.WriteLine("nekko-agent: not implemented yet (see the NodeAgent issue)");
return 2;
