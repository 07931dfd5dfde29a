"""The Leo side: template rendering, project files, and the compiler for the Leo subset."""
