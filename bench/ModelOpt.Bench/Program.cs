Console.WriteLine("The benchmark command is being written.");
