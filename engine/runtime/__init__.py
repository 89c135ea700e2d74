"""Evaluating a program: the working `State` of one evaluation and the engine-wide `DateCache`,
trace records, results and charts."""
