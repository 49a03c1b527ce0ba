// Log Analytics (Container Apps' logs) and Application Insights on top of it.

@description('Name prefix of the resources.')
param name string

@description('Azure region.')
param location string

@description('Days the logs are kept.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

param tags object = {}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-insights'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

output workspaceId string = logs.id
#disable-next-line outputs-should-not-contain-secrets // a connection string of App Insights names the resource; it grants nothing with local auth off
output insightsConnectionString string = insights.properties.ConnectionString
